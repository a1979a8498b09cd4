import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/binding/fifo.js';

/** Shifts `count` items off `fifo`. */
function shiftMany<T>(fifo: Fifo<T>, count: number): (T | undefined)[] {
  return Array.from({ length: count }, () => fifo.shift());
}

describe('Fifo', () => {
  it('is empty at first: no size, nothing to peek or shift', () => {
    const fifo = new Fifo<number>();
    expect(fifo.size).toBe(0);
    expect(fifo.peek()).toBeUndefined();
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.size).toBe(0);
  });

  it('delivers in order, peeking without removing', () => {
    const fifo = new Fifo<string>();
    fifo.push('a');
    fifo.push('b');
    expect(fifo.size).toBe(2);
    expect(fifo.peek()).toBe('a');
    expect(fifo.size).toBe(2);
    expect(fifo.shift()).toBe('a');
    expect(fifo.peek()).toBe('b');
    expect(fifo.size).toBe(1);
    expect(fifo.shift()).toBe('b');
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.size).toBe(0);
  });

  it('keeps order and size across compactions of a long queue that is never emptied', () => {
    const fifo = new Fifo<number>();
    let next = 0;
    let expected = 0;
    // Push 3 for every 2 shifted: the head passes 1024 many times while items remain behind it.
    for (let round = 0; round < 3000; round += 1) {
      for (let i = 0; i < 3; i += 1) fifo.push(next++);
      for (const item of shiftMany(fifo, 2)) expect(item).toBe(expected++);
      expect(fifo.size).toBe(next - expected);
      expect(fifo.peek()).toBe(expected);
    }
    const rest = shiftMany(fifo, fifo.size);
    expect(rest).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i));
    expect(fifo.shift()).toBeUndefined();
  });

  it('starts over after it is emptied, and after clear', () => {
    const fifo = new Fifo<number>();
    fifo.push(1);
    fifo.shift();
    fifo.push(2);
    expect(fifo.peek()).toBe(2);
    expect(fifo.size).toBe(1);
    fifo.push(3);
    fifo.clear();
    expect(fifo.size).toBe(0);
    expect(fifo.shift()).toBeUndefined();
    fifo.push(4);
    expect(fifo.shift()).toBe(4);
  });
});
