import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChangeSequence } from '../../src/core/changeSequence';

type Step = (s: ChangeSequence) => void;
const touch = (id: string): Step => (s) => s.touch(id);
const start = (id: string): Step => (s) => s.writeStarted(id);
const end = (id: string): Step => (s) => s.writeEnded(id);

describe('ChangeSequence.changedSince: is memory newer than a record read after mark()?', () => {
  const rows: { name: string; before: Step[]; after: Step[]; want: boolean }[] = [
    { name: 'nothing happened', before: [], after: [], want: false },
    { name: 'changed before the read began', before: [touch('a')], after: [], want: false },
    { name: 'changed while it was read', before: [], after: [touch('a')], want: true },
    { name: 'another account changed while it was read', before: [], after: [touch('b')], want: false },
    { name: 'a write started before the read and still in flight', before: [start('a')], after: [], want: true },
    { name: 'a write that ended before the read began', before: [start('a'), end('a')], after: [], want: false },
    { name: 'a write that ended while it was read', before: [start('a')], after: [end('a')], want: true },
    { name: 'one of two writes ended before the read began', before: [start('a'), start('a'), end('a')], after: [], want: true },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const sequence = new ChangeSequence();
      for (const step of row.before) step(sequence);
      const mark = sequence.mark();
      for (const step of row.after) step(sequence);
      assert.equal(sequence.changedSince('a', mark), row.want);
    });
  }
});

describe('ChangeSequence.isOnlyWrite', () => {
  const rows: { name: string; steps: Step[]; want: boolean }[] = [
    { name: 'no write', steps: [], want: false },
    { name: 'one write in flight', steps: [start('a')], want: true },
    { name: 'two writes in flight', steps: [start('a'), start('a')], want: false },
    { name: 'the other of two has ended', steps: [start('a'), start('a'), end('a')], want: true },
    { name: 'a write of another account does not count', steps: [start('a'), start('b')], want: true },
    { name: 'all ended', steps: [start('a'), end('a')], want: false },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const sequence = new ChangeSequence();
      for (const step of row.steps) step(sequence);
      assert.equal(sequence.isOnlyWrite('a'), row.want);
    });
  }
});
