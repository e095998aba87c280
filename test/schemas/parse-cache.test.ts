import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { cachedParse, MAX_ENTRIES, MIN_CACHED_BYTES, parseCacheDir } from "../../schemas/parse-cache";
import { InputError } from "../../schemas/diagnostics";
import { parseYamlFile, parseYamlText } from "../../schemas/yaml-source";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-parse-cache-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A YAML document of `hosts` hosts, larger than the cache's threshold from a few hundred on. */
function inventoryText(hosts: number, version = "8.1"): string {
  const lines = ["hosts:"];
  for (let i = 0; i < hosts; i++) lines.push(`  - name: host-${i}`, `    labels: { rack: r${i % 8} }`, `    dpu: { serial: MT${String(i).padStart(10, "0")}, os: "${version}" }`);
  return lines.join("\n") + "\n";
}

function write(name: string, text: string): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, text);
  return file;
}

let cacheDir: string;
const saved = process.env.SMARTFLEET_CACHE_DIR;
beforeEach(() => {
  process.env.SMARTFLEET_CACHE_DIR = fs.mkdtempSync(path.join(root, "cache-"));
  cacheDir = parseCacheDir() as string;
});
afterEach(() => {
  if (saved === undefined) delete process.env.SMARTFLEET_CACHE_DIR;
  else process.env.SMARTFLEET_CACHE_DIR = saved;
});

/** `parseYamlFile` of `file`, counting the parses that were not answered from the cache. */
function countingParse(file: string, counter: { parses: number }) {
  const text = fs.readFileSync(file, "utf8");
  return cachedParse(file, text, { maxAliasCount: 1000 }, () => {
    counter.parses++;
    return parseYamlText(text, file);
  });
}

function entries(): string[] {
  return fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).filter((n) => n.endsWith(".v8")) : [];
}

describe("parsed YAML kept by content", () => {
  it("answers a large file read again unchanged with the same values and positions, without parsing it", () => {
    const file = write("fleet.yaml", inventoryText(2000));
    expect(fs.statSync(file).size).toBeGreaterThan(MIN_CACHED_BYTES);
    const counter = { parses: 0 };
    const first = countingParse(file, counter);
    const second = countingParse(file, counter);
    expect(counter.parses).toBe(1);
    expect(second.value).toEqual(first.value);
    expect(second.sources.entries()).toEqual(first.sources.entries());
    expect(second.sources.locate("/hosts/1999/dpu/os")).toEqual({ file, line: 6001, column: 38 });
    // The whole reader gives the same answer from the cache as a parse of the text does.
    const fresh = parseYamlText(fs.readFileSync(file, "utf8"), file);
    const cached = parseYamlFile(file);
    expect(cached.value).toEqual(fresh.value);
    expect(cached.sources.entries()).toEqual(fresh.sources.entries());
  });

  it("parses again when the text, the name it is read under, or the alias limit differ", () => {
    const file = write("changing.yaml", inventoryText(2000));
    const counter = { parses: 0 };
    countingParse(file, counter);
    fs.writeFileSync(file, inventoryText(2000, "8.2"));
    expect((countingParse(file, counter).value as { hosts: Array<{ dpu: { os: string } }> }).hosts[0].dpu.os).toBe("8.2");
    const elsewhere = write("copy.yaml", fs.readFileSync(file, "utf8"));
    expect(countingParse(elsewhere, counter).sources.locate("/hosts/0").file).toBe(elsewhere);
    const text = fs.readFileSync(file, "utf8");
    cachedParse(file, text, { maxAliasCount: 10 }, () => (counter.parses++, parseYamlText(text, file)));
    expect(counter.parses).toBe(4);
  });

  it("keeps no entry for a small file or for a file that does not parse, and reports the error every time", () => {
    parseYamlFile(write("small.yaml", inventoryText(3)));
    const broken = write("broken.yaml", inventoryText(2000) + "hosts: [\n");
    for (let i = 0; i < 2; i++) expect(() => parseYamlFile(broken)).toThrow(InputError);
    expect(entries()).toEqual([]);
  });

  it("treats an unreadable entry as a miss and replaces it", () => {
    const file = write("corrupt.yaml", inventoryText(2000));
    const counter = { parses: 0 };
    countingParse(file, counter);
    const [entry] = entries();
    fs.writeFileSync(path.join(cacheDir, entry), "not a serialized entry");
    expect((countingParse(file, counter).value as { hosts: unknown[] }).hosts).toHaveLength(2000);
    expect(counter.parses).toBe(2);
    countingParse(file, counter);
    expect(counter.parses).toBe(2);
  });

  it("keeps its folder to this user and at most MAX_ENTRIES entries, dropping the least recently used", () => {
    const files = Array.from({ length: MAX_ENTRIES + 2 }, (_, i) => write(`many-${i}.yaml`, inventoryText(900, `v${i}`)));
    const counter = { parses: 0 };
    countingParse(files[0], counter);
    for (const file of files.slice(1)) {
      countingParse(file, counter);
      countingParse(files[0], counter); // read again: most recently used, so kept
    }
    expect(entries()).toHaveLength(MAX_ENTRIES);
    expect(counter.parses).toBe(files.length);
    countingParse(files[1], counter); // among the oldest: dropped, parsed again
    expect(counter.parses).toBe(files.length + 1);
    expect(fs.statSync(cacheDir).mode & 0o777).toBe(0o700);
    for (const entry of entries()) expect(fs.statSync(path.join(cacheDir, entry)).mode & 0o777).toBe(0o600);
  });

  it("is off when SMARTFLEET_CACHE_DIR is empty", () => {
    process.env.SMARTFLEET_CACHE_DIR = "";
    expect(parseCacheDir()).toBeUndefined();
    const file = write("off.yaml", inventoryText(2000));
    const counter = { parses: 0 };
    countingParse(file, counter);
    countingParse(file, counter);
    expect(counter.parses).toBe(2);
  });
});
