/**
 * The one table of qcow2 feature names: the bits QEMU 7.2 knows and the names it writes into
 * the feature name table header extension, in its order (qcow2_update_header(); spec "Feature
 * name table"). The writer writes it, the inspector names an image's set bits with it when the
 * image's own table does not.
 */
import type { Qcow2Header } from './header.ts';

export type FeatureType = 'incompatible' | 'compatible' | 'autoclear';

/** The type byte of a feature name table entry (QCOW2_FEAT_TYPE_*). */
export const FEATURE_TYPES: readonly FeatureType[] = ['incompatible', 'compatible', 'autoclear'];

export interface KnownFeature {
  readonly type: FeatureType;
  readonly bit: number;
  readonly name: string;
}

/** QEMU 7.2's feature name table, in the order qcow2_update_header() writes it. */
export const QCOW2_FEATURES: readonly KnownFeature[] = [
  { type: 'incompatible', bit: 0, name: 'dirty bit' },
  { type: 'incompatible', bit: 1, name: 'corrupt bit' },
  { type: 'incompatible', bit: 2, name: 'external data file' },
  { type: 'incompatible', bit: 3, name: 'compression type' },
  { type: 'incompatible', bit: 4, name: 'extended L2 entries' },
  { type: 'compatible', bit: 0, name: 'lazy refcounts' },
  { type: 'autoclear', bit: 0, name: 'bitmaps' },
  { type: 'autoclear', bit: 1, name: 'raw external data' },
];

/** QEMU's name of a feature bit, undefined for bits QEMU does not know. */
export const knownFeatureName = (type: FeatureType, bit: number): string | undefined =>
  QCOW2_FEATURES.find((f) => f.type === type && f.bit === bit)?.name;

/**
 * Every feature bit set in the header, named by the image's own feature name table where it has
 * an entry (as QEMU's report_unsupported_feature() does), else by QEMU's, else 'unknown'.
 */
export function setFeatures(
  h: Qcow2Header,
  imageTable: readonly {
    readonly type: FeatureType | number;
    readonly bit: number;
    readonly name: string;
  }[] = [],
): { type: FeatureType; bit: number; name: string }[] {
  const out: { type: FeatureType; bit: number; name: string }[] = [];
  const bits: Record<FeatureType, bigint> = {
    incompatible: h.incompatibleFeatures,
    compatible: h.compatibleFeatures,
    autoclear: h.autoclearFeatures,
  };
  for (const type of FEATURE_TYPES) {
    for (let bit = 0; bit < 64; bit++) {
      if (!((bits[type] >> BigInt(bit)) & 1n)) continue;
      const named = imageTable.find((f) => f.type === type && f.bit === bit)?.name;
      out.push({ type, bit, name: named ?? knownFeatureName(type, bit) ?? 'unknown' });
    }
  }
  return out;
}
