/**
 * Messages for maps without the image (issue 5): opening map files (qemu-img map JSON, nbdinfo
 * text/JSON) or the map a permalink carries, and encoding the open chain's map for a link.
 * Joined into protocol.ts's Request/Response unions. A map-only "chain" answers bins, tracks
 * and hits like an image's (mapFileSession.ts); ChainInfo.mapOnly says what it came from.
 */
import type { ImageIdentity } from '../state/url.ts';
import type { DiffSideSpec } from './diffProtocol.ts';

interface Msg {
  readonly v: 1;
  readonly id: number;
}

export type MapSource =
  | { readonly kind: 'file'; readonly file: File }
  | { readonly kind: 'text'; readonly name: string; readonly text: string }
  /**
   * core/share/mapCodec.ts text from a link's `map=`, or from a downloaded clusterscope map file
   * (`fromFile`: its name), which may be longer than a link holds.
   */
  | { readonly kind: 'link'; readonly payload: string; readonly fromFile?: string };

export interface MapOpenMeta {
  /** Chain file names the link names (top first); [] for a map file. */
  readonly files: readonly string[];
  /** The image the link was made from, if the map came from a link. */
  readonly image?: ImageIdentity;
}

export interface MapOnlyInfo {
  readonly fromLink: boolean;
  readonly files: readonly string[];
  readonly image?: ImageIdentity;
  /** Each map shown: where it came from and the interpretation it is. */
  readonly sources: readonly { readonly name: string; readonly interpretation: string }[];
}

export type MapRequest =
  | (Msg & { readonly type: 'openMap'; readonly sources: readonly MapSource[]; readonly meta: MapOpenMeta })
  | (Msg & {
      readonly type: 'shareMap';
      readonly openId: number;
      /** The diff view's A and B: their extents travel too, so the recipient sees the same diff. */
      readonly diff?: { readonly a: DiffSideSpec; readonly b: DiffSideSpec };
    });

export type MapResponse = Msg & {
  readonly type: 'shareMap';
  /** mapCodec text of the chosen interpretations' extents. */
  readonly payload: string;
};
