/**
 * `google.protobuf.Struct` on the wire, straight to and from plain objects: what
 * google-protobuf's `Struct.deserializeBinary(bytes).toJavaScript()` and
 * `Struct.fromJavaScript(object).serializeBinary()` give, the same bytes and objects (keys
 * sorted both ways, NaN's bits, its errors), without a message object per value.
 * `struct-codec.ts` puts it under the SDK.
 */
/** Field numbers of the wire format, shifted with their wire type into tags. */
const TAG = {
  structField: (1 << 3) | 2, // Struct.fields: map entry, length-delimited
  entryKey: (1 << 3) | 2,
  entryValue: (2 << 3) | 2,
  nullValue: (1 << 3) | 0,
  numberValue: (2 << 3) | 1,
  stringValue: (3 << 3) | 2,
  boolValue: (4 << 3) | 0,
  structValue: (5 << 3) | 2,
  listValue: (6 << 3) | 2,
  listItem: (1 << 3) | 2, // ListValue.values
} as const;

/** A plain value a Struct holds. */
export type StructValue = null | number | string | boolean | StructValue[] | { [key: string]: StructValue };

/** Reads protobuf wire data from `bytes[pos..end)`. */
class Reader {
  pos: number;
  constructor(
    readonly bytes: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.bytes[this.pos++];
      if (byte === undefined || this.pos > this.end) throw new Error("Struct: truncated varint");
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    // Longer varints (negative enum values) hold nothing a Struct needs beyond the low bits.
    while (this.bytes[this.pos++] >= 0x80) if (this.pos >= this.end) throw new Error("Struct: truncated varint");
    return result;
  }

  /** The end of a length-delimited field that starts here. */
  delimited(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw new Error("Struct: length past the end of its message");
    return end;
  }

  string(): string {
    const end = this.delimited();
    const text = this.bytes.toString("utf8", this.pos, end);
    this.pos = end;
    return text;
  }

  skip(tag: number): void {
    switch (tag & 7) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`Struct: unsupported wire type ${tag & 7}`);
    }
    if (this.pos > this.end) throw new Error("Struct: field past the end of its message");
  }
}

/** The plain object a Struct's encoded fields hold (google-protobuf's `toJavaScript`). */
export function decodeStruct(bytes: Uint8Array): { [key: string]: StructValue } {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return readStruct(new Reader(buffer, 0, buffer.length), buffer.length);
}

function readStruct(reader: Reader, end: number): { [key: string]: StructValue } {
  const keys: string[] = [];
  const values: StructValue[] = [];
  let sorted = true;
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag !== TAG.structField) {
      reader.skip(tag);
      continue;
    }
    const entryEnd = reader.delimited();
    let key = "";
    let value: StructValue | undefined;
    while (reader.pos < entryEnd) {
      const entryTag = reader.varint();
      if (entryTag === TAG.entryKey) key = reader.string();
      else if (entryTag === TAG.entryValue) value = readValue(reader, reader.delimited());
      else reader.skip(entryTag);
    }
    if (value === undefined) throw new Error("Unexpected struct type");
    if (keys.length && keys[keys.length - 1] >= key) sorted = false;
    keys.push(key);
    values.push(value);
  }
  // google-protobuf's map yields its keys sorted, and a later duplicate wins.
  const order = sorted ? null : keys.map((_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
  const result: { [key: string]: StructValue } = {};
  for (let i = 0; i < keys.length; i++) {
    const at = order ? order[i] : i;
    result[keys[at]] = values[at];
  }
  return result;
}

function readList(reader: Reader, end: number): StructValue[] {
  const items: StructValue[] = [];
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag === TAG.listItem) items.push(readValue(reader, reader.delimited()));
    else reader.skip(tag);
  }
  return items;
}

/** One `Value` message ending at `end`; its last kind set wins, as in google-protobuf. */
function readValue(reader: Reader, end: number): StructValue {
  let value: StructValue | undefined;
  while (reader.pos < end) {
    const tag = reader.varint();
    switch (tag) {
      case TAG.nullValue:
        reader.varint();
        value = null;
        break;
      case TAG.numberValue:
        if (reader.pos + 8 > end) throw new Error("Struct: truncated number");
        value = reader.bytes.readDoubleLE(reader.pos);
        reader.pos += 8;
        break;
      case TAG.stringValue:
        value = reader.string();
        break;
      case TAG.boolValue:
        value = reader.varint() !== 0;
        break;
      case TAG.structValue: {
        const valueEnd = reader.delimited();
        value = readStruct(reader, valueEnd);
        break;
      }
      case TAG.listValue: {
        const valueEnd = reader.delimited();
        value = readList(reader, valueEnd);
        break;
      }
      default:
        reader.skip(tag);
    }
  }
  if (value === undefined) throw new Error("Unexpected struct type");
  return value;
}

/** Writes protobuf wire data into a buffer that grows as needed. */
class Writer {
  bytes = Buffer.allocUnsafe(4096);
  pos = 0;

  ensure(more: number): void {
    if (this.pos + more <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.pos + more));
    this.bytes.copy(grown, 0, 0, this.pos);
    this.bytes = grown;
  }

  varint(value: number): void {
    this.ensure(10);
    while (value >= 0x80) {
      this.bytes[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.bytes[this.pos++] = value;
  }

  string(text: string): void {
    const length = text.length < 64 && isAscii(text) ? text.length : Buffer.byteLength(text, "utf8");
    this.varint(length);
    this.ensure(length);
    this.pos += this.bytes.write(text, this.pos, length, "utf8");
  }

  /** Starts a length-delimited field; `close` writes its length once its body is written. */
  open(tag: number): number {
    this.varint(tag);
    this.ensure(1);
    return this.pos++;
  }

  close(at: number): void {
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.bytes[at] = length;
      return;
    }
    // The length needs more than the one byte reserved: move the body up to make room.
    let extra = 0;
    for (let rest = length; rest >= 0x80; rest = Math.floor(rest / 128)) extra++;
    this.ensure(extra);
    this.bytes.copy(this.bytes, at + 1 + extra, at + 1, this.pos);
    this.pos = at;
    this.varint(length);
    this.pos += length;
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The encoded fields of the Struct google-protobuf's `Struct.fromJavaScript(object)` makes, in a buffer of their own. */
export function encodeStruct(object: object): Uint8Array {
  const writer = new Writer();
  writeStruct(writer, object);
  return writer.bytes.subarray(0, writer.pos);
}

function writeStruct(writer: Writer, object: object): void {
  const keys: string[] = [];
  // for...in, as google-protobuf's: inherited enumerable properties count too.
  for (const key in object) keys.push(key);
  keys.sort();
  for (const key of keys) {
    const entry = writer.open(TAG.structField);
    writer.varint(TAG.entryKey);
    writer.string(key);
    const value = writer.open(TAG.entryValue);
    writeValue(writer, (object as Record<string, unknown>)[key]);
    writer.close(value);
    writer.close(entry);
  }
}

/** The fields of one `Value`; what google-protobuf's `Value.fromJavaScript` refuses, refused. */
function writeValue(writer: Writer, value: unknown): void {
  switch (typeof value) {
    case "string":
      writer.varint(TAG.stringValue);
      writer.string(value);
      return;
    case "number":
      writer.varint(TAG.numberValue);
      writer.ensure(8);
      // google-protobuf writes NaN with every mantissa bit set; Node's writer, a quiet NaN.
      if (Number.isNaN(value)) writer.pos = writer.bytes.writeUInt32LE(0x7fffffff, writer.bytes.writeUInt32LE(0xffffffff, writer.pos));
      else writer.pos = writer.bytes.writeDoubleLE(value, writer.pos);
      return;
    case "boolean":
      writer.varint(TAG.boolValue);
      writer.varint(value ? 1 : 0);
      return;
    case "object": {
      if (value === null) {
        writer.varint(TAG.nullValue);
        writer.varint(0);
        return;
      }
      const at = writer.open(Array.isArray(value) ? TAG.listValue : TAG.structValue);
      if (Array.isArray(value)) writeList(writer, value);
      else writeStruct(writer, value);
      writer.close(at);
      return;
    }
    default:
      throw new Error("Unexpected struct type.");
  }
}

function writeList(writer: Writer, items: unknown[]): void {
  for (let i = 0; i < items.length; i++) {
    const at = writer.open(TAG.listItem);
    writeValue(writer, items[i]);
    writer.close(at);
  }
}
