/**
 * The text of a kind's lazy provider (`lazy-provider.ts`) as Pulumi's closure serializer
 * makes it, kept in the user's cache so that a program serializes its providers once, not
 * on every run. Pulumi's `dynamic.Resource` serializes its provider in every program it
 * runs in: that loads TypeScript (to parse the function's text) and walks the closure,
 * about 0.4 s of CPU and 40 MiB before a program's first resource is registered, paid by
 * each shard's program. The text depends only on the lazy provider's code, the kind's
 * file name and the serializer, so the kept text is the text the serializer would make.
 *
 * An entry is keyed by the compiled `lazy-provider` module, the file name and the SDK's
 * version: a change to any of them is a miss, never a stale text. Its first line holds the
 * SHA-256 of the text, checked before the text is used. Kept in smartfleet's cache folder
 * (`schemas/cache-dir.ts`), for this user only; an empty `SMARTFLEET_CACHE_DIR` turns it
 * off, and every program then serializes its providers as Pulumi's own class does.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { checkedEntry, readCheckedEntry, smartfleetCacheDir, writeCacheEntry, type CacheFolder } from "../../schemas/cache-dir";

/** Eight kinds, a few builds each. */
const KEEP = 32;

const HEADER = "// smartfleet: a dynamic provider serialized by Pulumi's closure serializer; a cache entry, never edited. sha256=";

/** The cache's folder; undefined when caching is off. */
export function providerCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = smartfleetCacheDir(env);
  return base && path.join(base, "dynamic-providers");
}

const textByFile = new Map<string, pulumi.Input<string>>();

/**
 * The `__provider` input of the kind whose lazy provider is `provider`, made for `file`: the
 * kept text when there is one, else the serializer's (kept for the next program once made).
 */
export function serializedProvider(file: string, provider: pulumi.dynamic.ResourceProvider): pulumi.Input<string> {
  let text = textByFile.get(file);
  if (text === undefined) textByFile.set(file, (text = keptOrSerialized(file, provider)));
  return text;
}

function keptOrSerialized(file: string, provider: pulumi.dynamic.ResourceProvider): pulumi.Input<string> {
  const dir = providerCacheDir();
  const entryFile = dir && path.join(dir, `${entryKey(file)}.txt`);
  const kept = entryFile && readCheckedEntry(entryFile, HEADER);
  if (kept) return kept.toString();
  // As Pulumi's `dynamic.Resource` does; a text that captured a secret stays secret and is not kept.
  const serialized = pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return pulumi.output(
    serialized.then(({ text, containsSecrets }) => {
      if (containsSecrets) return pulumi.secret(text);
      if (dir && entryFile) writeCacheEntry(folder(dir), entryFile, checkedEntry(HEADER, text));
      return text;
    }),
  );
}

function folder(dir: string): CacheFolder {
  return { dir, extension: ".txt", keep: KEEP };
}

function entryKey(file: string): string {
  const sdkVersion = (require("@pulumi/pulumi/package.json") as { version: string }).version;
  const lazyProviderModule = fs.readFileSync(path.join(__dirname, `lazy-provider${path.extname(__filename)}`));
  return createHash("sha256").update(sdkVersion).update("\0").update(file).update("\0").update(lazyProviderModule).digest("hex");
}
