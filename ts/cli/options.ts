/**
 * Flag declarations shared by several commands (names kept from the Python zarrio). clipanion
 * finds options among a command's own properties, so shared flags live on base classes.
 */
import { Option } from "clipanion";

import type { Layer } from "../config/resolve.js";
import { BaseCommand, dataFlags, encodingFlags } from "./common.js";

/** Flags about which data is read (every command that reads NetCDF). */
export abstract class DataCommand extends BaseCommand {
  chunking = Option.String("--chunking", { description: "Chunk lengths per dimension, e.g. time:100,lat:50,lon:100" });
  variables = Option.String("--variables", { description: "Only these variables (comma list)" });
  dropVariables = Option.String("--drop-variables,--exclude", { description: "Leave out these variables (comma list)" });
  timeDim = Option.String("--time-dim", { description: "Name of the time dimension (default: time)" });
  group = Option.String("--group", { description: "Only this NetCDF-4 group (e.g. /ocean)" });
  concurrency = Option.String("--concurrency", { description: "Slabs in flight per process (default 2)" });
  reader = Option.String("--reader", { description: "NetCDF reader of the native backend: auto, pure or libnetcdf" });

  protected flags(): Layer {
    return dataFlags(this);
  }
}

/** Flags about how new arrays are encoded (convert, create-template). */
export abstract class EncodingCommand extends DataCommand {
  compression = Option.String("--compression", { description: "blosc:<cname>:<level>[:shuffle|bitshuffle|noshuffle], zstd:<level>, gzip:<level> or none (default blosc:zstd:3)" });
  packing = Option.Boolean("--packing", { description: "Pack floats to integers with scale_factor/add_offset" });
  packingBits = Option.String("--packing-bits", { description: "8, 16 (default) or 32" });
  packingManualRanges = Option.String("--packing-manual-ranges", { description: 'JSON, e.g. {"temperature":{"min":-50,"max":50}}' });
  packingAutoBufferFactor = Option.String("--packing-auto-buffer-factor", { description: "Margin added to a range taken from the data (default 0.01)" });
  packingRangeExceededAction = Option.String("--packing-range-exceeded-action", { description: "error (default), clip or fill; warn/ignore mean clip" });
  attrs = Option.String("--attrs", { description: "JSON object of global attributes to add" });
  intelligentChunking = Option.Boolean("--intelligent-chunking", { description: "Choose unnamed chunk lengths for --access-pattern (always on for unnamed dims)" });
  accessPattern = Option.String("--access-pattern", { description: "temporal, spatial or balanced (default)" });
  targetChunkSizeMb = Option.String("--target-chunk-size-mb", { description: "Target uncompressed chunk size in MiB (default 8)" });
  zarrFormat = Option.String("--zarr-format", { description: "3 (default) or 2" });
  shards = Option.String("--shards", { description: "Zarr v3 shard lengths per dimension, e.g. time:720 (many chunks per stored object), or auto" });
  targetShardSizeMb = Option.String("--target-shard-size-mb", { description: "Target uncompressed shard size in MiB for --shards auto (default 256)" });

  protected override flags(): Layer {
    return { ...dataFlags(this), ...encodingFlags(this) };
  }
}
