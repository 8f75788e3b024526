import type { ChainInfo } from './protocol.ts';

/** Messages of the Image panel and host-file map (imageReport.ts), part of protocol.ts's union. */
export interface ImageField {
  readonly name: string;
  readonly value: string;
}

export interface ImageReport {
  readonly file: string;
  readonly format: 'qcow2' | 'raw';
  readonly header: readonly ImageField[];
  /** Every set feature bit, named from the image's feature table when it has one. */
  readonly features: readonly { readonly type: string; readonly bit: number; readonly name: string }[];
  readonly extensions: readonly { readonly type: string; readonly offset: number; readonly length: number }[];
  readonly snapshots: readonly {
    readonly id: string;
    readonly name: string;
    readonly date: string;
    readonly diskSize?: number;
    readonly vmStateSize: number;
  }[];
  readonly bitmaps: readonly {
    readonly name: string;
    readonly granularity: number;
    readonly flags: string;
  }[];
  readonly check?: {
    readonly corruptions: number;
    readonly leaks: number;
    readonly checkErrors: number;
    readonly failure?: string;
    readonly messages: readonly string[];
    readonly messagesDropped: number;
  };
  /** The check was left for a click: it would read `bytes` of metadata (imageReport.ts AUTO_CHECK_BYTES). */
  readonly checkDeferred?: { readonly bytes: number };
  readonly problems: readonly string[];
  /** Host clusters of the file: ranges of (start cluster, clusters, HOST_* class). */
  readonly host?: {
    readonly clusterSize: number;
    readonly clusters: number;
    readonly names: readonly string[];
    readonly start: Float64Array;
    readonly length: Float64Array;
    readonly kind: Uint8Array;
  };
}

interface Msg {
  readonly v: 1;
  readonly id: number;
}

export type ImageRequest =
  /** `check`: run qemu-img check whatever it costs (otherwise only up to AUTO_CHECK_BYTES). */
  | (Msg & { readonly type: 'image'; readonly openId: number; readonly check?: boolean })
  /** Map an internal snapshot's L1 table instead of the active one (`snapshot` absent: the active L1). */
  | (Msg & { readonly type: 'snapshotView'; readonly openId: number; readonly snapshot?: string });
export type ImageResponse =
  | (Msg & { readonly type: 'image'; readonly report: ImageReport })
  | (Msg & { readonly type: 'snapshotView'; readonly chain: ChainInfo; readonly snapshot?: string });
