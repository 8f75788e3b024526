/**
 * A lesson as a mode of the page: the store's `lesson` says which lesson and step is open and
 * whether its answer is shown. Each step opens its chain (built in the worker's sandbox, or a
 * bundled sample), shows the view it asks about and selects its cluster, so the map highlights
 * what the question names; the answer comes from the engine when the reader answers or asks.
 */

import { engineAnswer, LESSONS, type Lesson, type LessonStep } from '../lessons/lessons.ts';
import { CallFailed } from './client.ts';
import { type Caller, fetchSample, openFiles, openSource } from './loader.ts';
import type { LessonState, Store } from './store.ts';

export const lessonOf = (id: string): Lesson | undefined => LESSONS.find((l) => l.id === id);
export const stepOf = (l: LessonState): LessonStep | undefined => lessonOf(l.id)?.steps[l.step];

const snapshotOf = (view: string | undefined): string | undefined =>
  view?.startsWith('snapshot:') ? view.slice('snapshot:'.length) : undefined;

const why = (e: unknown) =>
  e instanceof CallFailed ? e.error.message : e instanceof Error ? e.message : String(e);

/** Opens step `i` of the open lesson: its chain (if another), its view, its cluster selected. */
async function openStep(
  store: Store,
  client: Caller,
  base: string,
  i: number,
  built: boolean,
): Promise<void> {
  const l = store.getState().lesson;
  const lesson = l && lessonOf(l.id);
  const step = lesson?.steps[i];
  if (!l || !lesson || !step) return;
  const set = (patch: Partial<LessonState>) => {
    const cur = store.getState().lesson;
    if (cur?.id === l.id) store.getState().setLesson({ ...cur, ...patch });
  };
  set({ step: i, revealed: false, busy: true });
  try {
    if (!(built && l.opened === step.top)) {
      const id =
        'ops' in lesson.build
          ? await openSource(store, client, { kind: 'sandbox', top: step.top })
          : await openFiles(store, client, await fetchSample(base, lesson.build.sample, lesson.build.files));
      if (id === undefined)
        throw new Error(store.getState().openErrors[0]?.message ?? `${step.top} could not be opened`);
      set({ opened: step.top });
    }
    const s = store.getState();
    s.setSnapshot(snapshotOf(step.view));
    s.select(step.offset);
    const { picked: _p, answer: _a, error: _e, ...rest } = store.getState().lesson ?? l;
    store.getState().setLesson({ ...rest, step: i, revealed: false, busy: false });
  } catch (e) {
    set({ busy: false, error: why(e) });
  }
}

/** Starts a lesson: builds its images (or fetches its sample) and opens its first step. */
export async function startLesson(store: Store, client: Caller, base: string, id: string): Promise<void> {
  const lesson = lessonOf(id);
  if (!lesson) return;
  store.getState().setLesson({ id, step: 0, revealed: false, busy: true });
  if ('ops' in lesson.build) {
    const st = await client
      .call('sandbox', { ops: lesson.build.ops })
      .catch((e: unknown) => ({ error: { message: why(e) } }));
    if ('error' in st && st.error) {
      store.getState().setLesson({ id, step: 0, revealed: false, busy: false, error: st.error.message });
      return;
    }
  }
  await openStep(store, client, base, 0, false);
}

/** The reader answers (`picked`) or asks for the answer (undefined): the engine's answer is shown. */
export async function answerStep(store: Store, client: Caller, picked?: string): Promise<void> {
  const l = store.getState().lesson;
  const step = l && stepOf(l);
  const source = store.getState().chain?.id;
  if (!l || !step || source === undefined) return;
  try {
    const hit = await client.call('hit', { source, view: step.view ?? '', offset: step.offset });
    const answer = hit ? engineAnswer(step, hit) : undefined;
    if (!answer) throw new Error(`the engine has no answer for this cluster`);
    const cur = store.getState().lesson;
    if (cur?.id !== l.id || cur.step !== l.step) return;
    store.getState().setLesson({ ...cur, revealed: true, answer, ...(picked !== undefined && { picked }) });
  } catch (e) {
    const cur = store.getState().lesson;
    if (cur) store.getState().setLesson({ ...cur, error: why(e) });
  }
}

/** The next step, or the end of the lesson (the lesson stays open on its last answer). */
export function nextStep(store: Store, client: Caller, base: string): Promise<void> {
  const l = store.getState().lesson;
  if (!l) return Promise.resolve();
  return openStep(store, client, base, l.step + 1, true);
}

export function leaveLesson(store: Store): void {
  store.getState().setLesson(undefined);
}
