import { describe, expect, it } from 'vitest';
import { parseFineTuneRequest, presetHyper } from './request.js';

const request = { name: 'planets', dataNetId: '1', dataNetVersion: 1 };

describe('fine-tune presets', () => {
  it('fills in the facts preset under what the request states, and trains facts on every row', () => {
    const r = parseFineTuneRequest({ ...request, preset: 'facts', hyper: { learningRate: 0.001 } });
    expect(r.preset).toBe('facts');
    expect(r.hyper).toMatchObject({ ...presetHyper.facts, learningRate: 0.001 });
    expect(r.hyper.evalFraction).toBe(0);
    // The general defaults fill in what the preset leaves out.
    expect(r.hyper.batchSize).toBe(parseFineTuneRequest(request).hyper.batchSize);
  });

  it('keeps the general defaults without a preset', () => {
    const r = parseFineTuneRequest(request);
    expect(r.preset).toBeUndefined();
    expect(r.hyper).toMatchObject({ rank: 8, dropout: 0.05, evalFraction: 0.1 });
  });

  it('refuses an unknown preset, naming the field', () => {
    for (const preset of ['memorise', 'constructor', 42])
      expect(() => parseFineTuneRequest({ ...request, preset })).toThrow('Invalid fine-tune request: field preset');
  });
});
