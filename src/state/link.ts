/**
 * The permalink's lifecycle, a slice of the store (urlSync.ts moves it along): what the link the
 * page was opened with (or navigated to) still has to do, and what it carries that the page
 * keeps showing.
 */
import type { ImageIdentity } from '../protocol/source.ts';
import type { UrlState } from './url.ts';

/** Where in an image a link points: range, selected cluster, snapshot. */
export type Place = Pick<UrlState, 'view' | 'selection' | 'snapshot'>;

export interface LinkState {
  /** The place a link names, for the first map of the next open. */
  readonly pending?: Place;
  /** The image the link was made from, compared with each image that opens. */
  readonly image?: ImageIdentity;
  /** The map a link's open is bringing. */
  readonly expectMap?: string;
  /** The map kept in the hash while it is the one shown. */
  readonly map?: string;
  /** Where the link's map was looking when an image load began over it (the same image keeps it). */
  readonly leaving?: Place;
  /** A hash change is opening what it names: the old map's state is not written over its hash. */
  readonly opening: boolean;
  /** The source whose first map took the pending place, and the one whose identity was checked. */
  readonly seen: number;
  readonly checked: number;
}

export const NO_LINK: LinkState = { opening: false, seen: 0, checked: 0 };

export const hasPlace = (u: Place): boolean =>
  u.view !== undefined || u.selection !== undefined || u.snapshot !== undefined;
