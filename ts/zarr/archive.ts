/**
 * An archive: a store plus the Zarr hierarchy in it. Writes group and array metadata, chunks,
 * and the consolidated metadata (written once, last, so a reader that opens consolidated sees a
 * finished hierarchy).
 */
import { StoreError } from "../errors.js";
import {
  arrayDocuments,
  chunkKey,
  groupDocuments,
  parseArray,
  type ArrayModel,
  type Attributes,
  type Document,
  type ZarrFormat,
} from "./metadata.js";
import { parseJsonExt, stringifyJsonExt } from "../json.js";
import type { Store } from "./store.js";

const join = (...parts: string[]) => parts.filter((p) => p !== "").join("/");

export interface Hierarchy {
  groups: Map<string, Attributes>;
  arrays: Map<string, ArrayModel>;
}

/** The paths of an archive's groups and arrays, as a writer knows them (it wrote them, or read them when it began). */
export interface NodePaths {
  groups: Iterable<string>;
  arrays: Iterable<string>;
}

export class Archive {
  constructor(
    readonly store: Store,
    readonly format: ZarrFormat,
  ) {}

  /** Open an existing archive, detecting its format. */
  static async open(store: Store): Promise<Archive> {
    if (await store.has("zarr.json")) return new Archive(store, 3);
    if (await store.has(".zgroup")) return new Archive(store, 2);
    throw new StoreError("not a Zarr group (no zarr.json or .zgroup at its root)", { file: store.location });
  }

  private async putJson(key: string, doc: Document): Promise<void> {
    await this.store.set(key, new TextEncoder().encode(stringifyJsonExt(doc)));
  }

  private async getJson(key: string): Promise<Document | undefined> {
    const bytes = await this.store.get(key);
    if (!bytes) return undefined;
    try {
      return parseJsonExt(new TextDecoder().decode(bytes)) as Document;
    } catch (e) {
      throw new StoreError(`'${key}' is not valid JSON: ${(e as Error).message}`, { file: this.store.location, cause: e });
    }
  }

  async writeGroup(groupPath: string, attributes: Attributes): Promise<void> {
    for (const [name, doc] of Object.entries(groupDocuments(attributes, this.format))) {
      await this.putJson(join(groupPath, name), doc);
    }
  }

  async writeArray(arrayPath: string, model: ArrayModel): Promise<void> {
    for (const [name, doc] of Object.entries(arrayDocuments(model, this.format))) {
      await this.putJson(join(arrayPath, name), doc);
    }
  }

  async readArray(arrayPath: string): Promise<ArrayModel> {
    const names = this.format === 3 ? ["zarr.json"] : [".zarray", ".zattrs"];
    const docs: Record<string, Document | undefined> = {};
    for (const n of names) docs[n] = await this.getJson(join(arrayPath, n));
    try {
      return parseArray(docs, this.format);
    } catch (e) {
      throw new StoreError(`array '${arrayPath}': ${(e as Error).message}`, { file: this.store.location, cause: e });
    }
  }

  async readGroupAttributes(groupPath: string): Promise<Attributes> {
    if (this.format === 3) return ((await this.getJson(join(groupPath, "zarr.json")))?.attributes as Attributes) ?? {};
    return (await this.getJson(join(groupPath, ".zattrs"))) ?? {};
  }

  /** The key of a chunk of the array at `arrayPath` (laid out as `model`). */
  chunkKey(arrayPath: string, model: Pick<ArrayModel, "chunkKeys">, coords: number[]): string {
    return join(arrayPath, chunkKey(coords, this.format, model.chunkKeys));
  }

  /** Every group and array, found by listing metadata keys. */
  async hierarchy(): Promise<Hierarchy> {
    const keys = await this.store.list();
    const groups = new Map<string, Attributes>();
    const arrays = new Map<string, ArrayModel>();
    for (const key of keys) {
      const parts = key.split("/");
      const name = parts.pop()!;
      const node = parts.join("/");
      if (this.format === 3 && name === "zarr.json") {
        const doc = await this.getJson(key);
        if (doc?.node_type === "group") groups.set(node, (doc.attributes as Attributes) ?? {});
        else if (doc?.node_type === "array") arrays.set(node, await this.readArray(node));
      } else if (this.format === 2 && name === ".zgroup") {
        groups.set(node, await this.readGroupAttributes(node));
      } else if (this.format === 2 && name === ".zarray") {
        arrays.set(node, await this.readArray(node));
      }
    }
    return { groups, arrays };
  }

  /**
   * The hierarchy as the root's consolidated metadata records it (what `open_zarr` sees), or
   * undefined when the archive has none. Commands that change metadata write it last, so this is
   * the archive's committed state even if a run was interrupted after updating array documents.
   */
  async readConsolidated(): Promise<Hierarchy | undefined> {
    const groups = new Map<string, Attributes>();
    const arrays = new Map<string, ArrayModel>();
    const parse = (node: string, docs: Record<string, Document | undefined>) => {
      try {
        arrays.set(node, parseArray(docs, this.format));
      } catch (e) {
        throw new StoreError(`array '${node}' in the consolidated metadata: ${(e as Error).message}`, { file: this.store.location, cause: e });
      }
    };
    if (this.format === 3) {
      const root = await this.getJson("zarr.json");
      const cm = root?.consolidated_metadata as Document | undefined | null;
      if (!root || !cm || typeof cm.metadata !== "object") return undefined;
      groups.set("", (root.attributes as Attributes) ?? {});
      for (const [node, doc] of Object.entries(cm.metadata as Record<string, Document>)) {
        if (doc.node_type === "group") groups.set(node, (doc.attributes as Attributes) ?? {});
        else if (doc.node_type === "array") parse(node, { "zarr.json": doc });
      }
      return { groups, arrays };
    }
    const zm = await this.getJson(".zmetadata");
    const metadata = zm?.metadata as Record<string, Document> | undefined;
    if (!metadata) return undefined;
    for (const key of Object.keys(metadata)) {
      const parts = key.split("/");
      const name = parts.pop()!;
      const node = parts.join("/");
      if (name === ".zgroup") groups.set(node, metadata[join(node, ".zattrs")] ?? {});
      else if (name === ".zarray") parse(node, { ".zarray": metadata[key], ".zattrs": metadata[join(node, ".zattrs")] });
    }
    return { groups, arrays };
  }

  /**
   * Write consolidated metadata for every group (each group's holds its whole subtree, so any
   * group can be opened consolidated on its own): `.zmetadata` in v2, `consolidated_metadata`
   * inside the group's `zarr.json` in v3.
   */
  async consolidate(known?: NodePaths): Promise<void> {
    // Listing the store walks every chunk (thousands of keys, or LIST requests on S3); a writer
    // that knows the nodes names them instead, and only their documents are read.
    let groups: Map<string, Attributes>;
    let arrays: { keys(): Iterable<string> };
    if (known) {
      groups = new Map();
      for (const g of known.groups) groups.set(g, await this.readGroupAttributes(g));
      arrays = new Set(known.arrays);
    } else ({ groups, arrays } = await this.hierarchy());
    const under = (group: string, node: string) => group === "" ? node !== "" : node.startsWith(group + "/");
    const rel = (group: string, node: string) => (group === "" ? node : node.slice(group.length + 1));
    for (const [group, attributes] of groups) {
      if (this.format === 2) {
        const metadata: Document = {};
        const add = async (node: string, names: string[]) => {
          for (const n of names) {
            const doc = await this.getJson(join(node, n));
            if (doc) metadata[join(rel(group, node), n)] = doc;
          }
        };
        await add(group, [".zgroup", ".zattrs"]);
        for (const g of groups.keys()) if (under(group, g)) await add(g, [".zgroup", ".zattrs"]);
        for (const a of arrays.keys()) if (under(group, a)) await add(a, [".zarray", ".zattrs"]);
        await this.putJson(join(group, ".zmetadata"), { metadata: sortKeys(metadata), zarr_consolidated_format: 1 });
      } else {
        const metadata: Document = {};
        for (const g of groups.keys()) {
          if (under(group, g)) metadata[rel(group, g)] = { zarr_format: 3, node_type: "group", attributes: groups.get(g) ?? {} };
        }
        for (const a of arrays.keys()) {
          if (under(group, a)) metadata[rel(group, a)] = (await this.getJson(join(a, "zarr.json")))!;
        }
        await this.putJson(join(group, "zarr.json"), {
          zarr_format: 3,
          node_type: "group",
          attributes,
          consolidated_metadata: { kind: "inline", must_understand: false, metadata: sortKeys(metadata) },
        });
      }
    }
  }
}

/** Keys in path order: zarr-python nests consolidated entries assuming siblings are adjacent. */
export function sortKeys(doc: Document): Document {
  return Object.fromEntries(Object.entries(doc).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
