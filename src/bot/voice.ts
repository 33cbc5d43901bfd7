/**
 * Voice questions: a voice note or an audio file up to two minutes (and Telegram's 20 MB
 * download limit) is transcribed, the transcript shown ("🎤 …") so a misheard question is
 * obvious, then answered like a typed question, follow-ups included. Everything that stops it
 * (no transcription configured, too long, too large, unreadable, the service down) gets one line
 * in the reader's language.
 */
import { Composer, type Context, type Filter, GrammyError } from 'grammy';
import { TranscriptionError } from '../transcription/index.js';
import { UserError } from '../util/errors.js';
import { formatBytes } from '../util/format.js';
import type { BotDeps } from './deps.js';
import { downloadFile } from './files.js';
import { answer } from './questions.js';
import { startTyping } from './stream.js';
import { tr } from './language.js';

type VoiceContext = Filter<Context, 'message:voice' | 'message:audio'>;

/** Longest voice question taken, in seconds. */
export const MAX_VOICE_SECONDS = 120;
/** Telegram's limit on files a bot downloads through the Bot API. */
export const TELEGRAM_DOWNLOAD_LIMIT = 20 * 1000 * 1000;

const EXTENSIONS: Record<string, string> = {
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/aac': 'm4a',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
};

/** The line for each way transcription fails (locales/*.ftl). */
const FAILURE_KEYS: Record<TranscriptionError['failure'], string> = {
  unreadable: 'voice-unreadable',
  unavailable: 'voice-unavailable',
};

/** Voice notes and audio files become questions. */
export function voiceQuestions(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on(['message:voice', 'message:audio'], (ctx) => voiceQuestion(ctx, deps));
  return composer;
}

async function voiceQuestion(ctx: VoiceContext, deps: BotDeps): Promise<void> {
  const t = tr(ctx);
  const media = ctx.msg.voice ?? ctx.msg.audio;
  const say = (line: string) =>
    ctx.reply(line, ctx.chat.type === 'private' ? {} : { reply_parameters: { message_id: ctx.msg.message_id } });
  if (!media) return;
  if (!deps.transcriber) {
    deps.log.info('voice.off', { chat_id: ctx.chat.id });
    await say(t('voice-off'));
    return;
  }
  if (media.duration > MAX_VOICE_SECONDS) {
    await say(t('voice-too-long', { seconds: String(media.duration), max: String(MAX_VOICE_SECONDS) }));
    return;
  }
  const maxBytes = Math.min(TELEGRAM_DOWNLOAD_LIMIT, deps.intake.maxUploadBytes);
  const tooLarge = () => say(t('voice-too-large', { size: formatBytes(maxBytes) }));
  if (media.file_size !== undefined && media.file_size > maxBytes) return void (await tooLarge());

  const typing = startTyping(ctx.api, ctx.chat.id, deps.tuning.typingIntervalMs, deps.log);
  let text: string;
  try {
    const file = await ctx.api.getFile(media.file_id);
    if (!file.file_path) throw new Error('Telegram gave no file path for the voice message.');
    const bytes = await downloadFile(deps.files, file.file_path, maxBytes);
    text = await deps.transcriber.transcribe(bytes, fileNameOf(ctx));
  } catch (err) {
    // Over the upload cap while downloading, or Telegram's own "file is too big" for over 20 MB.
    if (err instanceof UserError || (err instanceof GrammyError && /too big/i.test(err.description))) return void (await tooLarge());
    if (!(err instanceof TranscriptionError)) throw err;
    await say(t(FAILURE_KEYS[err.failure]));
    return;
  } finally {
    typing.stop();
  }
  if (!text) return void (await say(t('voice-empty')));
  deps.log.info('voice.question', { chat_id: ctx.chat.id, seconds: media.duration, chars: text.length });
  await say(`\u{1F3A4} ${text}`);
  await answer(ctx, deps, text);
}

/** The name the transcription server sees: its extension tells it the format. */
function fileNameOf(ctx: VoiceContext): string {
  if (ctx.msg.voice) return 'voice.ogg';
  const audio = ctx.msg.audio!;
  if (audio.file_name && /\.\w{2,4}$/.test(audio.file_name)) return audio.file_name;
  return `audio.${EXTENSIONS[audio.mime_type ?? ''] ?? 'ogg'}`;
}
