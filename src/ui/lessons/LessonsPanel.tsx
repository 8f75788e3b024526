/**
 * Lessons as a mode of the page: the list (LessonsPanel) starts one; the step (LessonStep) takes
 * the explanation's place beside the map, with its cluster selected there. The answer, QEMU's
 * words for it and the release that changed it stay hidden until the reader answers or asks.
 */
import { useEffect, useRef } from 'react';
import { hex } from '../../core/format.ts';
import { LESSONS, toolTitle } from '../../lessons/lessons.ts';
import { answerStep, leaveLesson, lessonOf, nextStep, startLesson, stepOf } from '../../state/lesson.ts';
import { useApp, useServices } from '../appContext.ts';
import './lessons.css';

const BASE = import.meta.env.BASE_URL;

export function LessonsPanel() {
  const { store, client } = useServices();
  const current = useApp((s) => s.lesson?.id);
  const busy = useApp((s) => s.lesson?.busy === true);
  return (
    <section className="panel lessons" aria-label="Lessons">
      <h2>Lessons</h2>
      <p className="muted">
        Each lesson builds a small image in this tab and asks what a tool prints for one cluster.
      </p>
      <ul className="lesson-list">
        {LESSONS.map((l) => (
          <li key={l.id}>
            <button
              type="button"
              aria-pressed={current === l.id}
              disabled={busy}
              onClick={() => void startLesson(store, client, BASE, l.id)}
            >
              {l.title}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function LessonStep() {
  const { store, client } = useServices();
  const l = useApp((s) => s.lesson);
  const heading = useRef<HTMLHeadingElement>(null);
  const id = l?.id;
  // A lesson started from the list (at the foot of the page) brings the map and the step into
  // view, and the keyboard to the step's heading: the page changed mode up there.
  useEffect(() => {
    if (id === undefined) return;
    document.querySelector('.area-map')?.scrollIntoView({ block: 'start' });
    heading.current?.focus({ preventScroll: true });
  }, [id]);
  if (!l) return null;
  const lesson = lessonOf(l.id);
  const step = stepOf(l);
  if (!lesson) return null;
  const last = l.step + 1 >= lesson.steps.length;
  return (
    <section className="panel lesson-mode" data-testid="lesson-mode" aria-label={`Lesson: ${lesson.title}`}>
      <h2 ref={heading} tabIndex={-1}>
        {lesson.title}
        <button
          type="button"
          className="close"
          aria-label="Leave the lesson"
          onClick={() => leaveLesson(store)}
        >
          ×
        </button>
      </h2>
      <p className="lesson-intro">{lesson.intro}</p>
      {l.error && (
        <p role="alert" className="lesson-error">
          {l.error}
        </p>
      )}
      {step ? (
        <div className="lesson-step" data-testid="lesson-step" data-offset={hex(step.offset)}>
          <p className="muted">
            Step {l.step + 1} of {lesson.steps.length} · {step.top}
            {step.view ? ` (${step.view.replace('snapshot:', 'snapshot ')})` : ''} · the selected cluster, at
            guest offset {hex(step.offset)} · {toolTitle(step.tool)}
          </p>
          <p className="lesson-question" aria-live="polite">
            {step.question}
          </p>
          <fieldset className="lesson-choices" aria-label="Choices" disabled={l.busy || l.revealed}>
            {step.choices.map((c) => (
              <button
                key={c}
                type="button"
                className={
                  l.revealed ? (c === l.answer?.label ? 'right' : c === l.picked ? 'wrong' : '') : ''
                }
                onClick={() => void answerStep(store, client, c)}
              >
                {c}
              </button>
            ))}
          </fieldset>
          {!l.revealed && (
            <button
              type="button"
              className="lesson-show"
              disabled={l.busy}
              onClick={() => void answerStep(store, client)}
            >
              Show the answer
            </button>
          )}
          {l.revealed && l.answer && (
            <div className="lesson-answer" data-testid="lesson-answer" aria-live="polite">
              <p>
                {l.picked !== undefined && (
                  <strong>{l.picked === l.answer.label ? 'Right. ' : 'Not quite. '}</strong>
                )}
                The tool prints <code>{l.answer.label}</code>.
              </p>
              <p>{step.note}</p>
              {l.answer.explain && <p className="muted">In QEMU's terms: {l.answer.explain}</p>}
              {step.since && <p className="lesson-since">What changed: {step.since}</p>}
              <button
                type="button"
                onClick={() => void (last ? leaveLesson(store) : nextStep(store, client, BASE))}
              >
                {last ? 'Finish the lesson' : 'Next step'}
              </button>
            </div>
          )}
        </div>
      ) : (
        <p>Lesson done. Pick another, or change the images in the sandbox.</p>
      )}
    </section>
  );
}
