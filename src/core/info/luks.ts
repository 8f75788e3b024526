/**
 * The LUKS1 partition header that a LUKS-encrypted qcow2 keeps in its crypto header region
 * (spec "Full disk encryption header pointer"; LUKS on-disk format 1.2.3). Only the header is
 * read, as QEMU does when it opens an image without the key (QCRYPTO_BLOCK_OPEN_NO_IO):
 * enough for the `encrypt` block of `qemu-img info`. Checks and messages follow
 * qcrypto_block_luks_check_header() and qcrypto_block_luks_parse_header() (crypto/block-luks.c).
 */
import { CorruptError, UnsupportedError } from '../errors.ts';
import { latin1, u16, u32 } from '../io/bigEndian.ts';

export const LUKS_HEADER_BYTES = 592;
export const LUKS_SECTOR_SIZE = 512;
export const LUKS_NUM_KEY_SLOTS = 8;
export const LUKS_STRIPES = 4000;
export const LUKS_KEY_SLOT_OFFSET = 4096;
export const LUKS_KEY_SLOT_ENABLED = 0x00ac71f3;
export const LUKS_KEY_SLOT_DISABLED = 0x0000dead;
const LUKS_MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe];

export interface LuksSlot {
  readonly active: boolean;
  readonly iters: number;
  readonly stripes: number;
  /** Byte offset of the key material, relative to the start of the LUKS header. */
  readonly keyOffset: number;
}

export interface LuksHeader {
  /** QCryptoCipherAlgorithm name, e.g. "aes-256". */
  readonly cipherAlg: string;
  /** QCryptoCipherMode name, e.g. "xts". */
  readonly cipherMode: string;
  /** QCryptoIVGenAlgorithm name: "plain", "plain64" or "essiv". */
  readonly ivgenAlg: string;
  /** Only for essiv. */
  readonly ivgenHashAlg?: string;
  readonly hashAlg: string;
  /** Bytes from the start of the LUKS header to the encrypted payload. */
  readonly payloadOffset: number;
  readonly masterKeyIters: number;
  readonly uuid: string;
  readonly slots: readonly LuksSlot[];
}

const HASHES = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'ripemd160']);
const MODES = new Set(['ecb', 'cbc', 'xts', 'ctr']);
const IVGENS = new Set(['plain', 'plain64', 'essiv']);
const CIPHER_KEYS: Record<string, readonly number[]> = {
  aes: [16, 24, 32],
  cast5: [16],
  serpent: [16, 24, 32],
  twofish: [16, 24, 32],
};

/** A NUL-terminated string field of `len` bytes; QEMU refuses one without a terminator. */
function cField(b: Uint8Array, at: number, len: number, unterminated: () => never): string {
  const f = b.subarray(at, at + len);
  const nul = f.indexOf(0);
  if (nul < 0) unterminated();
  return latin1(f, 0, nul);
}

/** Parses the 592-byte LUKS header. `offset` is its file offset, for errors. */
export function parseLuksHeader(file: string, b: Uint8Array, offset: number): LuksHeader {
  const at = (structure: string, rel = 0) => ({ file, structure, offset: offset + rel });
  const corrupt = (detail: string, rel = 0): never => {
    throw new CorruptError(at('LUKS header', rel), detail);
  };
  if (b.length < LUKS_HEADER_BYTES || LUKS_MAGIC.some((m, i) => b[i] !== m)) {
    throw new CorruptError(at('LUKS header magic'), 'Volume is not in LUKS format');
  }
  const version = u16(b, 6);
  if (version !== 1)
    throw new UnsupportedError(at('LUKS header version', 6), `LUKS version ${version} is not supported`);
  const cipherName = cField(b, 8, 32, () => corrupt('LUKS header cipher name is not NUL terminated', 8));
  const cipherModeSpec = cField(b, 40, 32, () =>
    corrupt('LUKS header cipher mode is not NUL terminated', 40),
  );
  const hashSpec = cField(b, 72, 32, () => corrupt('LUKS header hash spec is not NUL terminated', 72));
  const payloadSector = u32(b, 104);
  const keyBytes = u32(b, 108);
  const masterKeyIters = u32(b, 164);
  const uuidField = b.subarray(168, 208);
  const uuidNul = uuidField.indexOf(0);
  const uuid = latin1(uuidField, 0, uuidNul < 0 ? 40 : uuidNul);

  const minSector = Math.ceil(LUKS_KEY_SLOT_OFFSET / LUKS_SECTOR_SIZE);
  if (payloadSector < minSector) corrupt('LUKS payload is overlapping with the header', 104);
  if (masterKeyIters === 0) corrupt("LUKS key master key iterations can't be zero", 164);

  const slots: LuksSlot[] = [];
  const extent: [number, number][] = [];
  for (let i = 0; i < LUKS_NUM_KEY_SLOTS; i++) {
    const s = 208 + 48 * i;
    const state = u32(b, s);
    const iters = u32(b, s + 4);
    const keySector = u32(b, s + 40);
    const stripes = u32(b, s + 44);
    const len = Math.ceil((keyBytes * stripes) / LUKS_SECTOR_SIZE);
    if (stripes !== LUKS_STRIPES)
      corrupt(`Keyslot ${i} is corrupted (stripes ${stripes} != ${LUKS_STRIPES})`, s + 44);
    if (state !== LUKS_KEY_SLOT_DISABLED && state !== LUKS_KEY_SLOT_ENABLED) {
      corrupt(`Keyslot ${i} state (active/disable) is corrupted`, s);
    }
    if (state === LUKS_KEY_SLOT_ENABLED && iters === 0)
      corrupt(`Keyslot ${i} iteration count is zero`, s + 4);
    if (keySector < minSector) corrupt(`Keyslot ${i} is overlapping with the LUKS header`, s + 40);
    if (keySector + len > payloadSector)
      corrupt(`Keyslot ${i} is overlapping with the encrypted payload`, s + 40);
    extent.push([keySector, len]);
    slots.push({
      active: state === LUKS_KEY_SLOT_ENABLED,
      iters,
      stripes,
      keyOffset: keySector * LUKS_SECTOR_SIZE,
    });
  }
  for (let i = 0; i < extent.length; i++) {
    for (let j = i + 1; j < extent.length; j++) {
      const [s1, l1] = extent[i]!;
      const [s2, l2] = extent[j]!;
      if (!(s1 + l1 <= s2 || s2 + l2 <= s1))
        corrupt(`Keyslots ${i} and ${j} are overlapping in the header`, 208);
    }
  }

  // "<cipher-mode>-<iv-generator>[:<iv-hash>]", e.g. xts-plain64, cbc-essiv:sha256.
  const dash = cipherModeSpec.indexOf('-');
  if (dash < 0) corrupt(`Unexpected cipher mode string format '${cipherModeSpec}'`, 40);
  const cipherMode = cipherModeSpec.slice(0, dash);
  let ivgenName = cipherModeSpec.slice(dash + 1);
  let ivHash: string | undefined;
  const colon = ivgenName.indexOf(':');
  if (colon >= 0) {
    ivHash = ivgenName.slice(colon + 1);
    ivgenName = ivgenName.slice(0, colon);
    if (!HASHES.has(ivHash))
      throw new UnsupportedError(at('LUKS header', 40), `Hash '${ivHash}' is not supported`);
  }
  if (!MODES.has(cipherMode))
    throw new UnsupportedError(at('LUKS header', 40), `Cipher mode '${cipherMode}' is not supported`);
  const algKeyBytes = cipherMode === 'xts' ? keyBytes / 2 : keyBytes;
  if (!CIPHER_KEYS[cipherName]?.includes(algKeyBytes)) {
    throw new UnsupportedError(
      at('LUKS header', 8),
      `Algorithm '${cipherName}' with key size ${algKeyBytes} bytes not supported`,
    );
  }
  if (!HASHES.has(hashSpec))
    throw new UnsupportedError(at('LUKS header', 72), `Hash '${hashSpec}' is not supported`);
  if (!IVGENS.has(ivgenName)) {
    throw new UnsupportedError(at('LUKS header', 40), `IV generator '${ivgenName}' is not supported`);
  }
  if (ivgenName === 'essiv' && ivHash === undefined) corrupt('Missing IV generator hash specification', 40);

  return {
    cipherAlg: `${cipherName}-${algKeyBytes * 8}`,
    cipherMode,
    ivgenAlg: ivgenName,
    ...(ivgenName === 'essiv' && ivHash !== undefined && { ivgenHashAlg: ivHash }),
    hashAlg: hashSpec,
    payloadOffset: payloadSector * LUKS_SECTOR_SIZE,
    masterKeyIters,
    uuid,
    slots,
  };
}
