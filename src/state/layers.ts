/**
 * The heatmap's toggled layers. Fill layers split each cell by content (data / zero / absent)
 * or, with `depth` on, by the chain layer that owns the bytes, or, with `backup` on, by what an
 * incremental backup from the chosen persistent bitmap reads (its dirty bytes as data / zero /
 * absent); overlay layers mark cells on top (`dirty`: the chosen bitmap's dirty bytes).
 */
export const LAYER_IDS = [
  'data',
  'zero',
  'absent',
  'depth',
  'top',
  'hole',
  'compressed',
  'dirty',
  'backup',
] as const;
export type LayerId = (typeof LAYER_IDS)[number];
export type LayerToggles = Readonly<Record<LayerId, boolean>>;

export const DEFAULT_LAYERS: LayerToggles = {
  data: true,
  zero: true,
  absent: true,
  depth: false,
  top: true,
  hole: false,
  compressed: true,
  dirty: false,
  backup: false,
};

export const LAYER_LABELS: Readonly<Record<LayerId, string>> = {
  data: 'Data',
  zero: 'Zero',
  absent: 'Absent (in no layer)',
  depth: 'Allocation depth',
  top: 'Allocated in top',
  hole: 'Hole (NBD)',
  compressed: 'Compressed',
  dirty: 'Dirty in bitmap',
  backup: 'Incremental backup reads',
};
