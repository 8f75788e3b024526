/**
 * Layout of the heatmap grid: the visible guest range in row-major cells. One cell per cluster
 * when the range is small enough, else one cell per bin of a whole number of clusters; never
 * more cells than pixels (cells are at least MIN_CELL_PX wide).
 */
export const MIN_CELL_PX = 4;
export const MAX_CELL_PX = 128;

export interface Grid {
  /** Guest offset of cell 0 (cluster-aligned). */
  readonly start: number;
  readonly bytesPerCell: number;
  readonly cells: number;
  readonly cols: number;
  readonly rows: number;
  readonly cellPx: number;
  /** Bins per cell: 32 when each cell is one cluster with subclusters, large enough to show them. */
  readonly subPerCell: number;
  readonly width: number;
  readonly height: number;
}

export interface GridInput {
  readonly width: number;
  readonly maxHeight: number;
  readonly start: number;
  readonly end: number;
  readonly clusterSize: number;
  readonly subclusters: boolean;
}

export function layoutGrid(g: GridInput): Grid {
  const c = g.clusterSize;
  const width = Math.max(MIN_CELL_PX, Math.floor(g.width));
  const maxH = Math.max(MIN_CELL_PX, Math.floor(g.maxHeight));
  const start = Math.floor(g.start / c) * c;
  const len = Math.max(c, g.end - start);
  const maxCells = Math.floor(width / MIN_CELL_PX) * Math.floor(maxH / MIN_CELL_PX);
  const clusters = Math.ceil(len / c);
  let bytesPerCell = c;
  let cellPx = MIN_CELL_PX;
  let cells: number;
  if (clusters <= maxCells) {
    cells = clusters;
    cellPx = Math.max(MIN_CELL_PX, Math.min(MAX_CELL_PX, Math.floor(Math.sqrt((width * maxH) / cells))));
    while (cellPx > MIN_CELL_PX && Math.ceil(cells / Math.floor(width / cellPx)) * cellPx > maxH) cellPx--;
  } else {
    bytesPerCell = Math.ceil(len / maxCells / c) * c;
    cells = Math.ceil(len / bytesPerCell);
  }
  const cols = Math.max(1, Math.min(cells, Math.floor(width / cellPx)));
  const rows = Math.ceil(cells / cols);
  const subPerCell = g.subclusters && bytesPerCell === c && cellPx >= 24 ? 32 : 1;
  return {
    start,
    bytesPerCell,
    cells,
    cols,
    rows,
    cellPx,
    subPerCell,
    width: cols * cellPx,
    height: rows * cellPx,
  };
}

/** The cell under a point, or -1. */
export function cellAt(grid: Grid, x: number, y: number): number {
  if (x < 0 || y < 0 || x >= grid.cols * grid.cellPx || y >= grid.rows * grid.cellPx) return -1;
  const i = Math.floor(y / grid.cellPx) * grid.cols + Math.floor(x / grid.cellPx);
  return i < grid.cells ? i : -1;
}

export const cellStart = (grid: Grid, i: number): number => grid.start + i * grid.bytesPerCell;

/** Pixels between cells: one once cells are large enough to tell apart. */
export const cellGap = (grid: Grid): number => (grid.cellPx >= 8 ? 1 : 0);

/**
 * Guest offset under a point: the cell's start, or where the cell shows subclusters (8 columns
 * x 4 rows, in guest order, as drawn), the start of the subcluster under it; -1 outside.
 */
export function offsetAt(grid: Grid, x: number, y: number): number {
  const i = cellAt(grid, x, y);
  if (i < 0) return -1;
  if (grid.subPerCell === 1) return cellStart(grid, i);
  const s = grid.cellPx - cellGap(grid);
  const col = Math.min(7, Math.floor(((x % grid.cellPx) * 8) / s));
  const row = Math.min(3, Math.floor(((y % grid.cellPx) * 4) / s));
  return cellStart(grid, i) + (row * 8 + col) * (grid.bytesPerCell / grid.subPerCell);
}

export const cellOfOffset = (grid: Grid, offset: number): number =>
  Math.floor((offset - grid.start) / grid.bytesPerCell);

/** Top-left pixel of a cell. */
export const cellXY = (grid: Grid, i: number): [number, number] => [
  (i % grid.cols) * grid.cellPx,
  Math.floor(i / grid.cols) * grid.cellPx,
];
