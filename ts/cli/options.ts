/**
 * Flags shared by several commands (names kept from the Python zarrio), each made from its field
 * in `CONFIG_SPEC` (flags.ts). clipanion finds options among a command's own properties, so
 * shared flags live on base classes.
 */
import { BaseCommand } from "./common.js";
import { configFlag } from "./flags.js";

/** Flags about which data is read (every command that reads NetCDF). */
export abstract class DataCommand extends BaseCommand {
  chunking = configFlag("chunking");
  variables = configFlag("variables.include");
  dropVariables = configFlag("variables.exclude");
  timeDim = configFlag("time.dim");
  group = configFlag("group");
  concurrency = configFlag("concurrency");
  reader = configFlag("reader");
}

/** Flags about how new arrays are encoded (convert, create-template). */
export abstract class EncodingCommand extends DataCommand {
  compression = configFlag("compression");
  packing = configFlag("packing.enabled");
  packingBits = configFlag("packing.bits");
  packingManualRanges = configFlag("packing.manualRanges");
  packingAutoBufferFactor = configFlag("packing.autoBufferFactor");
  packingRangeExceededAction = configFlag("packing.rangeExceededAction");
  attrs = configFlag("attrs");
  intelligentChunking = configFlag("intelligentChunking");
  accessPattern = configFlag("accessPattern");
  targetChunkSizeMb = configFlag("targetChunkSizeMb");
  zarrFormat = configFlag("zarrFormat");
  shards = configFlag("sharding");
  targetShardSizeMb = configFlag("targetShardSizeMb");
}

/** `--packing-range-exceeded-action` where arrays are already packed (append, write-region). */
export const PACKED_RANGE = { help: "Values outside a packed array's range: error, clip or fill" };
