/** Serving metrics in the Prometheus text format (GET /metrics): requests, tokens, queue, cache, per adapter. */
export interface Metrics {
  request(
    labels: { model: string; adapter: string; status: string },
    tokens: { prompt: number; completion: number },
  ): void;
  render(gauges: Record<string, number>): string;
}

export function createMetrics(): Metrics {
  const requests = new Map<string, number>();
  const tokens = new Map<string, number>();
  const inc = (m: Map<string, number>, key: string, by = 1) => m.set(key, (m.get(key) ?? 0) + by);
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return {
    request(l, t) {
      inc(requests, `model="${esc(l.model)}",adapter="${esc(l.adapter)}",status="${esc(l.status)}"`);
      inc(tokens, `model="${esc(l.model)}",adapter="${esc(l.adapter)}",kind="prompt"`, t.prompt);
      inc(tokens, `model="${esc(l.model)}",adapter="${esc(l.adapter)}",kind="completion"`, t.completion);
    },
    render(gauges) {
      const lines: string[] = [
        '# HELP tributary_requests_total Inference requests, by model, adapter and outcome.',
        '# TYPE tributary_requests_total counter',
        ...[...requests].map(([k, v]) => `tributary_requests_total{${k}} ${v}`),
        '# HELP tributary_tokens_total Tokens read (prompt) and written (completion).',
        '# TYPE tributary_tokens_total counter',
        ...[...tokens].map(([k, v]) => `tributary_tokens_total{${k}} ${v}`),
      ];
      for (const [name, value] of Object.entries(gauges)) {
        const counter = name.endsWith('_total');
        lines.push(`# TYPE tributary_${name} ${counter ? 'counter' : 'gauge'}`, `tributary_${name} ${value}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
