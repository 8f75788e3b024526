/**
 * Guided lessons: pick one, its chain is built in the worker (or a QEMU-made sample is opened)
 * and shown in the same views; each step selects a cluster and asks what a tool prints. The
 * grade and the explanation come from the engine (the worker's hit detail and explain()).
 */

import { useState } from 'react';
import { hex } from '../../core/format.ts';
import './lessons.css';
import { fetchSample, openFiles, openSource } from '../../state/loader.ts';
import { useServices } from '../appContext.ts';
import { runSandbox } from '../sandbox/openSource.ts';
import { engineAnswer, LESSONS, type Lesson, TOOL_TITLES } from './lessons.ts';

interface Graded {
  readonly picked: string;
  readonly answer: string;
  readonly explain: string;
}

export function LessonsPanel() {
  const { store, client } = useServices();
  const [lesson, setLesson] = useState<Lesson | undefined>();
  const [stepIndex, setStepIndex] = useState(0);
  const [openId, setOpenId] = useState<{ top: string; id: number } | undefined>();
  const [graded, setGraded] = useState<Graded | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  /** Builds (or fetches) the lesson's images and opens the step's chain; returns the open id. */
  async function openStep(l: Lesson, i: number, built: boolean): Promise<number | undefined> {
    const step = l.steps[i]!;
    if (built && openId?.top === step.top) return openId.id;
    let id: number | undefined;
    if ('ops' in l.build) {
      if (!built) {
        const st = await runSandbox(client, l.build.ops);
        if (st.error) throw new Error(st.error.message);
      }
      id = await openSource(store, client, { kind: 'sandbox', top: step.top });
    } else {
      const files = await fetchSample(import.meta.env.BASE_URL, l.build.sample, l.build.files);
      id = await openFiles(store, client, files);
    }
    if (id !== undefined) setOpenId({ top: step.top, id });
    store.getState().select(step.offset);
    return id;
  }

  async function start(l: Lesson) {
    setBusy(true);
    setError(undefined);
    setLesson(l);
    setStepIndex(0);
    setGraded(undefined);
    setOpenId(undefined);
    try {
      await openStep(l, 0, false);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  async function answer(picked: string) {
    if (!lesson) return;
    const step = lesson.steps[stepIndex]!;
    setBusy(true);
    try {
      const id = await openStep(lesson, stepIndex, true);
      if (id === undefined) return;
      const detail = await client.call('hit', { source: id, view: '', offset: step.offset });
      const a = detail && engineAnswer(step, detail);
      if (!a) throw new Error(`no answer from the engine at ${hex(step.offset)}`);
      setGraded({ picked, answer: a.label, explain: a.explain });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  async function next() {
    if (!lesson) return;
    const i = stepIndex + 1;
    setGraded(undefined);
    setStepIndex(i);
    if (i < lesson.steps.length) {
      setBusy(true);
      try {
        await openStep(lesson, i, true);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      } finally {
        setBusy(false);
      }
    }
  }

  const step = lesson?.steps[stepIndex];
  return (
    <section className="panel lessons" aria-label="Lessons">
      <h2>Lessons</h2>
      <ul className="lesson-list">
        {LESSONS.map((l) => (
          <li key={l.id}>
            <button
              type="button"
              aria-pressed={lesson?.id === l.id}
              disabled={busy}
              onClick={() => void start(l)}
            >
              {l.title}
            </button>
          </li>
        ))}
      </ul>
      {error && (
        <p role="alert" className="lesson-error">
          {error}
        </p>
      )}
      {lesson && <p className="lesson-intro">{lesson.intro}</p>}
      {lesson && step && (
        <div className="lesson-step" data-testid="lesson-step">
          <p className="muted">
            Step {stepIndex + 1} of {lesson.steps.length} · {step.top} at guest offset {hex(step.offset)} ·{' '}
            {TOOL_TITLES[step.tool]}
          </p>
          <p className="lesson-question">{step.question}</p>
          <fieldset className="lesson-choices" aria-label="Choices">
            {step.choices.map((c) => (
              <button
                key={c}
                type="button"
                disabled={busy || graded !== undefined}
                className={graded ? (c === graded.answer ? 'right' : c === graded.picked ? 'wrong' : '') : ''}
                onClick={() => void answer(c)}
              >
                {c}
              </button>
            ))}
          </fieldset>
          {graded && (
            <div className="lesson-answer" data-testid="lesson-answer" aria-live="polite">
              <p>
                <strong>{graded.picked === graded.answer ? 'Right.' : 'Not quite.'}</strong> The tool prints{' '}
                <code>{graded.answer}</code>.
              </p>
              <p>{step.note}</p>
              {graded.explain && <p className="muted">Why (engine): {graded.explain}</p>}
              <button type="button" onClick={() => void next()}>
                {stepIndex + 1 < lesson.steps.length ? 'Next step' : 'Finish'}
              </button>
            </div>
          )}
        </div>
      )}
      {lesson && !step && <p>Lesson done. Pick another, or change the images in the sandbox.</p>}
    </section>
  );
}
