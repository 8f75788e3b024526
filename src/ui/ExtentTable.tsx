/**
 * The qemu-img map rows of the range in view (merged as qemu-img merges block status), paged
 * from the worker. Linked both ways: a click (or Enter) zooms the map to the row and selects its
 * first cluster, and highlights the row's range in the other views (HighlightBar); a selection
 * made on the map marks its row and scrolls the table to it.
 */
import type { ChainInfo } from '../protocol/source.ts';
import { viewKey } from '../state/views.ts';
import { useApp } from './appContext.ts';
import { rangeLabel } from './format.ts';
import { RowsTable } from './RowsTable.tsx';

export function ExtentTable({ chain }: { chain: ChainInfo }) {
  const view = useApp((s) => s.view);
  const selection = useApp((s) => s.selection);
  const key = useApp(viewKey);
  const setView = useApp((s) => s.setView);
  const select = useApp((s) => s.select);
  const setHighlight = useApp((s) => s.setHighlight);
  const title =
    chain.kind === 'map'
      ? `${chain.mapOnly?.sources[0]?.title ?? 'map'} rows in view`
      : 'qemu-img map rows in view';
  return (
    <RowsTable
      source={chain}
      view={key}
      range={view}
      label="qemu-img map rows in view"
      heading={(n) => `${title}: ${n}`}
      testId="extent-rows"
      rowHeight={26}
      visibleRows={10}
      rowClass="extent-row"
      {...(selection !== undefined && { current: { at: selection } })}
      onPick={(_i, start, length) => {
        setView({ start, end: start + length });
        select(start - (start % chain.clusterSize));
        setHighlight({
          kind: 'range',
          start,
          end: start + length,
          label: `${chain.kind === 'map' ? 'map' : 'qemu-img map'} row ${rangeLabel(start, start + length)}`,
        });
      }}
    />
  );
}
