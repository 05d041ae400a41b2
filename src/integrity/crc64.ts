/**
 * Table-driven reflected CRC-64, kept in two 32-bit halves (BigInt per byte is far slower).
 * Two variants matter here: the ECMA one Go's hash/crc64 computes — mongodump writes it into
 * each namespace's EOF header (also known as CRC-64/XZ) — and the Jones one Redis appends to
 * every RDB file.
 */
interface Crc64Variant {
  tableHi: Uint32Array;
  tableLo: Uint32Array;
  /** Initial value and final XOR (the same for both variants used here). */
  invert: boolean;
}

function variant(reflectedPolynomial: bigint, invert: boolean): Crc64Variant {
  const polyHi = Number(reflectedPolynomial >> 32n);
  const polyLo = Number(reflectedPolynomial & 0xffffffffn);
  const tableHi = new Uint32Array(256);
  const tableLo = new Uint32Array(256);
  for (let index = 0; index < 256; index += 1) {
    let hi = 0;
    let lo = index;
    for (let bit = 0; bit < 8; bit += 1) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi >>>= 1;
      if (carry) {
        hi = (hi ^ polyHi) >>> 0;
        lo = (lo ^ polyLo) >>> 0;
      }
    }
    tableHi[index] = hi;
    tableLo[index] = lo;
  }
  return { tableHi, tableLo, invert };
}

const ECMA = variant(0xc96c5795d7870f42n, true);
const JONES = variant(0x95ac9329ac4bc9b5n, false);

export class Crc64 {
  private hi: number;
  private lo: number;

  private constructor(private readonly kind: Crc64Variant) {
    this.hi = kind.invert ? 0xffffffff : 0;
    this.lo = kind.invert ? 0xffffffff : 0;
  }

  /** Go's crc64 with the ECMA table: mongodump's namespace checksum. */
  static ecma(): Crc64 {
    return new Crc64(ECMA);
  }

  /** Redis's crc64 (Jones polynomial): the RDB file's trailing checksum. */
  static jones(): Crc64 {
    return new Crc64(JONES);
  }

  update(bytes: Uint8Array): this {
    const { tableHi, tableLo } = this.kind;
    let hi = this.hi;
    let lo = this.lo;
    for (let index = 0; index < bytes.length; index += 1) {
      const slot = (lo ^ bytes[index]) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ tableLo[slot]) >>> 0;
      hi = ((hi >>> 8) ^ tableHi[slot]) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  /** The checksum as an unsigned 64-bit value. */
  digest(): bigint {
    const hi = this.kind.invert ? ~this.hi >>> 0 : this.hi;
    const lo = this.kind.invert ? ~this.lo >>> 0 : this.lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
}
