/**
 * What the bot says about a voice message it cannot answer, in the reader's language (Telegram's
 * language_code; English when it has no entry). Kept together so the interface localisation can
 * take them over as they are. `{seconds}`, `{max}` and `{size}` are filled in by `voiceLine`.
 */

interface VoiceLines {
  /** No transcription configured. */
  off: string;
  tooLong: string;
  tooLarge: string;
  unreadable: string;
  empty: string;
  unavailable: string;
}

const LINES: Record<string, VoiceLines> = {
  en: {
    off:
      'Voice questions need a speech-to-text service, and none is set up. An admin turns it on with TRANSCRIBE_MODEL ' +
      "(OpenAI's whisper-1, or a local whisper server through TRANSCRIBE_BASE_URL). Typed questions work now.",
    tooLong: 'That voice message is {seconds} s long; I can take up to {max} s. Please ask in a shorter one, or type the question.',
    tooLarge: 'That audio file is over {size}, as much as Telegram lets a bot download. Please send a smaller one, or type the question.',
    unreadable: 'I could not make out that audio. Please try again, or type the question.',
    empty: 'I heard no words in that voice message. Please try again, or type the question.',
    unavailable:
      'The speech-to-text service is not answering right now. Please type the question, or send the voice message again in a few minutes.',
  },
  ru: {
    off:
      'Для голосовых вопросов нужен сервис распознавания речи, а он не настроен. Администратор включает его переменной TRANSCRIBE_MODEL ' +
      '(whisper-1 от OpenAI или локальный сервер whisper через TRANSCRIBE_BASE_URL). Текстовые вопросы работают уже сейчас.',
    tooLong: 'Это голосовое сообщение длится {seconds} с, а я принимаю не больше {max} с. Задайте вопрос короче или напишите его.',
    tooLarge: 'Этот аудиофайл больше {size} — столько Telegram позволяет боту скачать. Пришлите файл поменьше или напишите вопрос.',
    unreadable: 'Не удалось разобрать это аудио. Попробуйте ещё раз или напишите вопрос.',
    empty: 'В этом голосовом сообщении я не услышал слов. Попробуйте ещё раз или напишите вопрос.',
    unavailable:
      'Сервис распознавания речи сейчас не отвечает. Напишите вопрос текстом или пришлите голосовое ещё раз через несколько минут.',
  },
  es: {
    off:
      'Las preguntas por voz necesitan un servicio de transcripción, y no hay ninguno configurado. Un administrador lo activa con TRANSCRIBE_MODEL ' +
      '(whisper-1 de OpenAI, o un servidor whisper local mediante TRANSCRIBE_BASE_URL). Las preguntas escritas ya funcionan.',
    tooLong: 'Este mensaje de voz dura {seconds} s y acepto como máximo {max} s. Haz la pregunta en uno más corto o escríbela.',
    tooLarge:
      'Este archivo de audio supera {size}, lo máximo que Telegram deja descargar a un bot. Envía uno más pequeño o escribe la pregunta.',
    unreadable: 'No he podido entender este audio. Inténtalo de nuevo o escribe la pregunta.',
    empty: 'No he oído ninguna palabra en este mensaje de voz. Inténtalo de nuevo o escribe la pregunta.',
    unavailable:
      'El servicio de transcripción no responde ahora mismo. Escribe la pregunta o vuelve a enviar el audio dentro de unos minutos.',
  },
  de: {
    off:
      'Sprachfragen brauchen einen Transkriptionsdienst, und keiner ist eingerichtet. Ein Admin schaltet ihn mit TRANSCRIBE_MODEL ein ' +
      '(whisper-1 von OpenAI oder ein lokaler Whisper-Server über TRANSCRIBE_BASE_URL). Getippte Fragen funktionieren schon jetzt.',
    tooLong: 'Diese Sprachnachricht ist {seconds} s lang; ich nehme höchstens {max} s an. Stell die Frage bitte kürzer oder tippe sie.',
    tooLarge:
      'Diese Audiodatei ist größer als {size}, so viel lässt Telegram einen Bot herunterladen. Schick bitte eine kleinere oder tippe die Frage.',
    unreadable: 'Ich konnte diese Aufnahme nicht verstehen. Versuch es bitte noch einmal oder tippe die Frage.',
    empty: 'In dieser Sprachnachricht habe ich keine Worte gehört. Versuch es bitte noch einmal oder tippe die Frage.',
    unavailable:
      'Der Transkriptionsdienst antwortet gerade nicht. Tippe die Frage bitte oder schick die Sprachnachricht in ein paar Minuten noch einmal.',
  },
  uk: {
    off:
      'Для голосових запитань потрібен сервіс розпізнавання мовлення, а його не налаштовано. Адміністратор вмикає його змінною TRANSCRIBE_MODEL ' +
      '(whisper-1 від OpenAI або локальний сервер whisper через TRANSCRIBE_BASE_URL). Текстові запитання працюють уже зараз.',
    tooLong: 'Це голосове повідомлення триває {seconds} с, а я приймаю щонайбільше {max} с. Поставте коротше запитання або напишіть його.',
    tooLarge:
      'Цей аудіофайл більший за {size} — стільки Telegram дозволяє ботові завантажити. Надішліть менший файл або напишіть запитання.',
    unreadable: 'Не вдалося розібрати це аудіо. Спробуйте ще раз або напишіть запитання.',
    empty: 'У цьому голосовому повідомленні я не почув слів. Спробуйте ще раз або напишіть запитання.',
    unavailable:
      'Сервіс розпізнавання мовлення зараз не відповідає. Напишіть запитання текстом або надішліть голосове ще раз за кілька хвилин.',
  },
  fr: {
    off:
      "Les questions vocales demandent un service de transcription, et aucun n'est configuré. Un administrateur l'active avec TRANSCRIBE_MODEL " +
      "(whisper-1 d'OpenAI, ou un serveur whisper local via TRANSCRIBE_BASE_URL). Les questions écrites fonctionnent dès maintenant.",
    tooLong: "Ce message vocal dure {seconds} s ; j'accepte au plus {max} s. Posez la question dans un message plus court, ou écrivez-la.",
    tooLarge:
      "Ce fichier audio dépasse {size}, le maximum qu'un bot peut télécharger sur Telegram. Envoyez-en un plus petit, ou écrivez la question.",
    unreadable: "Je n'ai pas pu comprendre cet audio. Réessayez, ou écrivez la question.",
    empty: "Je n'ai entendu aucun mot dans ce message vocal. Réessayez, ou écrivez la question.",
    unavailable:
      'Le service de transcription ne répond pas pour le moment. Écrivez la question, ou renvoyez le message vocal dans quelques minutes.',
  },
};

/** Languages these lines are written in. */
export const VOICE_LINE_LANGUAGES: readonly string[] = Object.keys(LINES);

/** One line in `lang` (English when it has none), its placeholders filled. */
export function voiceLine(key: keyof VoiceLines, lang: string | null, values: Record<string, string | number> = {}): string {
  const line = (LINES[lang ?? 'en'] ?? LINES.en!)[key];
  return line.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
