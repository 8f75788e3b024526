/**
 * The sandbox (and the lessons, which are scripted sandbox sessions): images made in the worker
 * by core's writer, changed by qemu-io-like operations, opened by the same engine as dropped
 * files (their MemoryFiles are ByteSources). Each operation behaves like one qemu-io or qemu-img
 * invocation on the named image; the files stay valid for QEMU after every step
 * (writer.oracle.test.ts).
 */
import { UnsupportedError } from '../core/errors.ts';
import { plainError } from '../core/plainError.ts';
import { commit } from '../core/write/commit.ts';
import type { WritableImage } from '../core/write/image.ts';
import { Qcow2Writer } from '../core/write/qcow2Writer.ts';
import { RawWriter } from '../core/write/rawWriter.ts';
import type { SandboxImageInfo, SandboxOp, SandboxState } from '../protocol/results.ts';
import type { NamedSource } from './chainFiles.ts';

const hexPattern = (p: number) => `0x${p.toString(16).padStart(2, '0')}`;

/** The command line a person would type for `o` (qemu-img / qemu-io syntax). */
export function describeSandboxOp(o: SandboxOp): string {
  switch (o.op) {
    case 'reset':
      return 'rm -f *';
    case 'create':
      return [
        `qemu-img create -f ${o.format}`,
        ...(o.format === 'qcow2'
          ? [
              `-o compat=${o.version === 2 ? '0.10' : '1.1'}${o.clusterBits ? `,cluster_size=${2 ** o.clusterBits}` : ''}${o.extendedL2 ? ',extended_l2=on' : ''}`,
            ]
          : []),
        ...(o.backing ? [`-b ${o.backing} -F ${o.backing.endsWith('.raw') ? 'raw' : 'qcow2'}`] : []),
        o.name,
        ...(o.size !== undefined ? [String(o.size)] : []),
      ].join(' ');
    case 'write':
      return `qemu-io -c 'write -P ${hexPattern(o.pattern)} ${o.offset} ${o.length}' ${o.image}`;
    case 'zero':
      return `qemu-io -c 'write -z${o.unmap ? ' -u' : ''} ${o.offset} ${o.length}' ${o.image}`;
    case 'discard':
      return `qemu-io -c 'discard ${o.offset} ${o.length}' ${o.image}`;
    case 'snapshot':
      return `qemu-img snapshot -c ${o.name} ${o.image}`;
    case 'commit':
      return `qemu-img commit ${o.image}`;
    case 'bitmap': {
      const args =
        o.action === 'add'
          ? [
              '--add',
              ...(o.granularity !== undefined ? [`-g ${o.granularity}`] : []),
              ...(o.disabled ? ['--disable'] : []),
            ]
          : o.action === 'merge'
            ? [`--merge ${o.source}`]
            : [`--${o.action}`];
      return `qemu-img bitmap ${args.join(' ')} ${o.image} ${o.name}`;
    }
  }
}

export class Sandbox {
  private readonly images = new Map<string, WritableImage>();
  private readonly log: string[] = [];

  private get(name: string): WritableImage {
    const img = this.images.get(name);
    if (!img) {
      throw new UnsupportedError(
        { file: name, structure: 'sandbox' },
        `no image named '${name}' in the sandbox`,
      );
    }
    return img;
  }

  private qcow2(name: string, what: string): Qcow2Writer {
    const img = this.get(name);
    if (!(img instanceof Qcow2Writer)) {
      throw new UnsupportedError({ file: name, structure: 'sandbox' }, `${what} needs a qcow2 image`);
    }
    return img;
  }

  /** Applies one operation; on error the images are as they were before it (or partly written, as QEMU would leave them). */
  apply(o: SandboxOp): void {
    switch (o.op) {
      case 'reset':
        this.images.clear();
        this.log.length = 0;
        return;
      case 'create': {
        if (!/^[\w.-]{1,64}$/.test(o.name)) {
          throw new UnsupportedError(
            { file: o.name, structure: 'sandbox' },
            'image names are 1-64 letters, digits, dots, dashes or underscores',
          );
        }
        if (this.images.has(o.name)) {
          throw new UnsupportedError(
            { file: o.name, structure: 'sandbox' },
            `an image named '${o.name}' exists`,
          );
        }
        if (o.format === 'raw') {
          if (o.backing) {
            throw new UnsupportedError(
              { file: o.name, structure: 'create options' },
              'raw images have no backing file',
            );
          }
          this.images.set(o.name, new RawWriter(o.name, o.size ?? 0));
        } else {
          const b = o.backing === undefined ? undefined : this.get(o.backing);
          this.images.set(
            o.name,
            Qcow2Writer.create({
              name: o.name,
              ...(o.version !== undefined && { version: o.version }),
              ...(o.size !== undefined && { size: o.size }),
              ...(o.clusterBits !== undefined && { clusterBits: o.clusterBits }),
              ...(o.extendedL2 !== undefined && { extendedL2: o.extendedL2 }),
              ...(b &&
                o.backing !== undefined && { backing: { name: o.backing, format: b.format, image: b } }),
            }),
          );
        }
        break;
      }
      case 'write': {
        const data = new Uint8Array(o.length).fill(o.pattern & 0xff);
        this.get(o.image).write(o.offset, data);
        break;
      }
      case 'zero':
        this.get(o.image).writeZeroes(o.offset, o.length, o.unmap === true);
        break;
      case 'discard':
        this.get(o.image).discard(o.offset, o.length);
        break;
      case 'snapshot':
        this.qcow2(o.image, 'snapshot').snapshot(o.name);
        break;
      case 'commit':
        commit(this.qcow2(o.image, 'commit'));
        break;
      case 'bitmap': {
        const img = this.get(o.image);
        if (!(img instanceof Qcow2Writer)) {
          // bdrv_can_store_new_dirty_bitmap() on a raw node; any other action finds no bitmap.
          throw new UnsupportedError(
            { file: o.image, structure: `bitmap '${o.name}'` },
            o.action === 'add'
              ? `Operation add on bitmap ${o.name} failed: Can't store persistent bitmaps to ${o.image}: Operation not supported`
              : `Operation ${o.action} on bitmap ${o.name} failed: Dirty bitmap '${o.action === 'merge' ? o.source : o.name}' not found`,
          );
        }
        img.dirtyBitmap(o.name, o);
        break;
      }
    }
    this.log.push(describeSandboxOp(o));
  }

  /** Applies operations in order, as a shell script of qemu-img/qemu-io lines would; the first failure stops the list. */
  run(ops: readonly SandboxOp[]): SandboxState {
    for (const op of ops) {
      try {
        this.apply(op);
      } catch (e) {
        return { ...this.state(), error: plainError(e) };
      }
    }
    return this.state();
  }

  state(): SandboxState {
    return {
      images: [...this.images.values()].map((img): SandboxImageInfo => {
        const q = img instanceof Qcow2Writer ? img : undefined;
        return {
          name: img.file.name,
          format: img.format,
          size: img.length,
          fileSize: img.file.size,
          ...(q && { version: q.version, extendedL2: q.extendedL2 }),
          ...(q?.backingName !== undefined && { backing: q.backingName }),
        };
      }),
      log: [...this.log],
    };
  }

  /** `top` and its backing files, as sources the engine opens like dropped files. */
  sources(top: string): NamedSource[] {
    const out: NamedSource[] = [];
    for (let img: WritableImage | undefined = this.get(top); img; img = img.backing) {
      out.push({ name: img.file.name, source: img.file });
    }
    return out;
  }

  /** A copy of an image file's bytes, for download. */
  bytes(name: string): Uint8Array {
    return this.get(name).file.bytes();
  }
}
