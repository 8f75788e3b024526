/**
 * A map printed while the status streams (status/stream.ts): each resolved extent gets its
 * interpretation's value (Interpretation.extentValue), is merged as qemu-img map merges
 * (Collapser), and each entry that can no longer grow is written at once in its tool's text,
 * through the same writers as the maps computed whole. Text leaves in chunks of
 * OUTPUT_CHUNK_BYTES: memory never grows with the map.
 *
 * On an error the entry being merged is dropped, as qemu-img drops `curr` when a later query
 * fails: qemu-img map --output=json then has printed "[" and the entries before (reference
 * §4.6), which is what this prints. nbdinfo prints nothing at all when a request fails (it
 * prints the map once it has all of it), so nbdinfo text is held back up to NBDINFO_HOLD_BYTES.
 */
import { NBDINFO_HOLD_BYTES, OUTPUT_CHUNK_BYTES } from '../limits.ts';
import type { ExtentSink } from '../status/resolve.ts';
import { AsciiWriter } from './asciiWriter.ts';
import type { NativeFormat } from './catalogue.ts';
import { Collapser, type Interpretation } from './interpretation.ts';
import { NbdinfoJsonWriter, NbdinfoTextWriter } from './nbd.ts';
import { MapHumanWriter, MapJsonWriter, NEWEST_RELEASE } from './qemuImgMap.ts';

export interface MapStreamOptions {
  /** qemu-img map's field set (qemu-img-map-json). */
  readonly release?: number;
  /** Name printed for the file holding a layer's data (qemu-img-map-human). */
  readonly fileName?: (layer: number) => string;
  /** Receives the text, chunk by chunk, in order. */
  readonly write: (bytes: Uint8Array) => void;
  /** OUTPUT_CHUNK_BYTES; tests lower it. */
  readonly chunkBytes?: number;
  /** NBDINFO_HOLD_BYTES for the nbdinfo formats; tests lower it. */
  readonly holdBytes?: number;
}

export interface MapStreamEnd {
  /** Entries written. */
  readonly entries: number;
  /** Set when the tool stops with this sentence (qemu-img map human: no offset for data). */
  readonly error?: string;
}

export class MapStream implements ExtentSink {
  private readonly w = new AsciiWriter(1 << 16);
  private readonly collapser: Collapser;
  private readonly value: (flags: number, layer: number, kind: number) => number;
  private readonly human?: MapHumanWriter;
  private readonly chunk: number;
  /** nbdinfo text held back while it fits NBDINFO_HOLD_BYTES; undefined once released. */
  private held: Uint8Array[] | undefined;
  private heldBytes = 0;
  private readonly hold: number;
  private readonly writeEnd: (count: number) => void;

  constructor(
    interpretation: Interpretation,
    format: NativeFormat,
    private readonly opts: MapStreamOptions,
  ) {
    if (!interpretation.extentValue) {
      throw new RangeError(`${interpretation.id} cannot be streamed: its value needs the whole status`);
    }
    this.value = interpretation.extentValue;
    this.chunk = opts.chunkBytes ?? OUTPUT_CHUNK_BYTES;
    this.hold = opts.holdBytes ?? NBDINFO_HOLD_BYTES;
    const label = (v: number) => interpretation.label(v);
    let emit: (s: number, l: number, v: number, h: number, y: number, last: boolean) => void;
    switch (format) {
      case 'qemu-img-map-json': {
        const jw = new MapJsonWriter(this.w, opts.release ?? NEWEST_RELEASE);
        jw.begin();
        emit = (s, l, v, h, _y, last) => jw.entry(s, l, v, h, last);
        this.writeEnd = (n) => jw.end(n);
        break;
      }
      case 'qemu-img-map-human': {
        const hw = new MapHumanWriter(this.w, opts.fileName ?? String);
        this.human = hw;
        hw.begin();
        emit = (s, l, v, h, y) => hw.entry(s, l, v, h, y);
        this.writeEnd = () => {};
        break;
      }
      case 'nbdinfo': {
        this.held = [];
        const tw = new NbdinfoTextWriter(this.w, label);
        emit = (s, l, v) => tw.entry(s, l, v);
        this.writeEnd = () => {};
        break;
      }
      case 'nbdinfo-json': {
        this.held = [];
        const jw = new NbdinfoJsonWriter(this.w, label);
        jw.begin();
        emit = (s, l, v, _h, _y, last) => jw.entry(s, l, v, last);
        this.writeEnd = (n) => jw.end(n);
        break;
      }
    }
    this.collapser = new Collapser(interpretation.keepsHost === true, (s, l, v, h, y, last) => {
      emit(s, l, v, h, y, last);
      if (this.w.length >= this.chunk) this.flush();
    });
  }

  /** qemu-img map (human) stopped at an entry it cannot print: nothing more is written. */
  get stopped(): boolean {
    return this.human?.error !== undefined;
  }

  push(start: number, length: number, kind: number, flags: number, layer: number, host: number): void {
    if (this.stopped) return;
    this.collapser.push(start, length, this.value(flags, layer, kind), host, layer);
  }

  /** The map ended at the image's end: the held entry is written and the text closed. */
  finish(): MapStreamEnd {
    this.collapser.finish();
    this.writeEnd(this.collapser.count);
    return this.close(false);
  }

  /**
   * The walk stopped at an error: the held entry is dropped and the text left as the tool
   * leaves it (qemu-img map: open; nbdinfo: nothing, if nothing was released yet).
   */
  fail(): MapStreamEnd {
    this.collapser.drop();
    return this.close(true);
  }

  private close(failed: boolean): MapStreamEnd {
    if (failed && this.held) {
      this.held = undefined;
      this.w.take();
    } else {
      this.flush();
      this.release();
    }
    const error = this.human?.error;
    return { entries: this.collapser.count, ...(error !== undefined && { error }) };
  }

  private flush(): void {
    if (this.w.length === 0) return;
    const bytes = this.w.take();
    if (this.held) {
      this.held.push(bytes);
      this.heldBytes += bytes.length;
      if (this.heldBytes > this.hold) this.release();
    } else {
      this.opts.write(bytes);
    }
  }

  private release(): void {
    const held = this.held;
    this.held = undefined;
    for (const b of held ?? []) this.opts.write(b);
  }
}
