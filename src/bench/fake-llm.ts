/**
 * An OpenAI-compatible chat-completions server on 127.0.0.1 that answers instantly, so the bot
 * benchmark measures the bot and the answering pipeline rather than a model. It speaks just
 * enough of the API for the `openai` client: JSON completions and SSE streams.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running fake server. */
export interface FakeLlm {
  /** Base URL for `OPENAI_BASE_URL`, e.g. `http://127.0.0.1:43210/v1`. */
  baseURL: string;
  /** Chat requests served so far. */
  requests(): number;
  close(): Promise<void>;
}

// Cites source 1, like a grounded answer would; the answerer checks and formats it.
const ANSWER = 'According to the first source, the article covers this question directly [1]. More details are in the same report [1].';

/** Starts the server on a free port. */
export async function startFakeLlm(): Promise<FakeLlm> {
  let count = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      count++;
      let body: { model?: string; stream?: boolean } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const model = body.model ?? 'fake';
      const created = Math.floor(Date.now() / 1000);
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: `chatcmpl-${count}`,
            object: 'chat.completion',
            created,
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const event = (delta: Record<string, string>, finish: string | null) =>
        `data: ${JSON.stringify({ id: `chatcmpl-${count}`, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      // A few deltas, as a real stream would send, all at once.
      const words = ANSWER.split(/(?<= )/);
      let out = event({ role: 'assistant', content: '' }, null);
      for (let i = 0; i < words.length; i += 4) out += event({ content: words.slice(i, i + 4).join('') }, null);
      out += event({}, 'stop') + 'data: [DONE]\n\n';
      res.end(out);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
