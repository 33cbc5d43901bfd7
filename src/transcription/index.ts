/**
 * Voice questions: audio to text through an OpenAI-compatible `/audio/transcriptions` endpoint
 * (OpenAI's whisper-1, or a local faster-whisper or whisper.cpp server) via the `openai` client.
 * Callers get the transcript or a `TranscriptionError` saying whether the audio or the service
 * was the problem, nothing else.
 */
import OpenAI, { APIError, toFile } from 'openai';
import type { Config } from '../config/index.js';
import type { Logger } from '../util/log.js';

/** Why a transcription failed: the audio could not be read, or the service could not be used. */
export type TranscriptionFailure = 'unreadable' | 'unavailable';

/** A transcription that did not produce text. */
export class TranscriptionError extends Error {
  override name = 'TranscriptionError';
  constructor(
    readonly failure: TranscriptionFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Audio in, text out. */
export interface Transcriber {
  /** The model, for logs. */
  readonly model: string;
  /** The words spoken in `audio` (a file named `fileName`, e.g. `voice.ogg`); '' when none were heard. Rejects only with `TranscriptionError`. */
  transcribe(audio: Uint8Array, fileName: string): Promise<string>;
}

/** Builds the transcriber from its settings (null when voice is off). */
export function createTranscriber(settings: NonNullable<Config['transcription']>, logger: Logger): Transcriber {
  const client = new OpenAI({
    // Local whisper servers usually accept any key.
    apiKey: settings.apiKey ?? 'not-needed',
    ...(settings.baseURL ? { baseURL: settings.baseURL } : {}),
    timeout: settings.timeoutMs,
    maxRetries: 1,
  });
  return {
    model: settings.model,
    async transcribe(audio, fileName) {
      const started = Date.now();
      try {
        const file = await toFile(audio, fileName);
        const result = await client.audio.transcriptions.create({ file, model: settings.model, response_format: 'json' });
        const text = (result.text ?? '').replace(/\s+/g, ' ').trim();
        logger.info('voice.transcribed', { model: settings.model, bytes: audio.byteLength, chars: text.length, ms: Date.now() - started });
        return text;
      } catch (err) {
        const failure = classify(err);
        logger.warn('voice.transcription_failed', {
          model: settings.model,
          failure,
          error: err instanceof Error ? err.message : String(err),
        });
        throw new TranscriptionError(failure, err instanceof Error ? err.message : String(err));
      }
    },
  };
}

/**
 * A 400/413/415/422 is the audio (too long, corrupt, a format the server does not decode);
 * everything else, a bad key or model included, is the service, which the admin has to fix.
 */
function classify(err: unknown): TranscriptionFailure {
  if (err instanceof APIError && err.status !== undefined && [400, 413, 415, 422].includes(err.status)) return 'unreadable';
  return 'unavailable';
}
