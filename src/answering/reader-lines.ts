/**
 * The answerer's lines for a reader who asks in another language than the articles': kept
 * together, one entry per language, so the interface localisation can take them over as they are.
 * `{collection}` is the articles' language, named in the reader's language.
 */
import { languageName } from '../language/index.js';

interface ReaderLines {
  /** With no answer model and no multilingual embedding model, instead of "not covered". */
  needsModel: string;
  /** "Not covered", when a model could search in the articles' language and found nothing. */
  notCovered: string;
  /** Heads the closest articles under `needsModel`. */
  closest: string;
  /** Under `needsModel` when no article comes close. */
  noneClose: string;
  /** Opens an extractive answer to a question in another language. */
  untranslated: string;
}

const LINES: Record<string, ReaderLines> = {
  en: {
    needsModel:
      'Questions in your language need an answer model (LLM) or a multilingual embedding model, and neither is configured. ' +
      "Questions in the articles' language ({collection}) work now; an admin can turn on either model.",
    notCovered: "The articles I have don't cover this.",
    closest: 'The closest articles:',
    noneClose: 'No article comes close to this question.',
    untranslated: "The quotes below are in the articles' language ({collection}), untranslated.",
  },
  ru: {
    needsModel:
      'Для вопросов на вашем языке нужна модель ответов (LLM) или многоязычная модель эмбеддингов, а ни одна не настроена. ' +
      'Вопросы на языке статей ({collection}) работают уже сейчас; администратор может включить любую из моделей.',
    notCovered: 'В моих статьях об этом ничего нет.',
    closest: 'Ближайшие статьи:',
    noneClose: 'Близких к вопросу статей не нашлось.',
    untranslated: 'Цитаты ниже — на языке статей ({collection}), без перевода.',
  },
  es: {
    needsModel:
      'Las preguntas en tu idioma necesitan un modelo de respuestas (LLM) o un modelo de embeddings multilingüe, y no hay ninguno configurado. ' +
      'Las preguntas en el idioma de los artículos ({collection}) ya funcionan; un administrador puede activar cualquiera de los dos.',
    notCovered: 'Los artículos que tengo no tratan esto.',
    closest: 'Los artículos más cercanos:',
    noneClose: 'Ningún artículo se acerca a esta pregunta.',
    untranslated: 'Las citas siguientes están en el idioma de los artículos ({collection}), sin traducir.',
  },
  de: {
    needsModel:
      'Fragen in deiner Sprache brauchen ein Antwortmodell (LLM) oder ein mehrsprachiges Embedding-Modell, und keins von beiden ist eingerichtet. ' +
      'Fragen in der Sprache der Artikel ({collection}) funktionieren schon jetzt; ein Admin kann eines der beiden Modelle einschalten.',
    notCovered: 'Meine Artikel behandeln das nicht.',
    closest: 'Die nächstliegenden Artikel:',
    noneClose: 'Kein Artikel kommt dieser Frage nahe.',
    untranslated: 'Die folgenden Zitate stehen in der Sprache der Artikel ({collection}) und sind nicht übersetzt.',
  },
  uk: {
    needsModel:
      'Для запитань вашою мовою потрібна модель відповідей (LLM) або багатомовна модель ембедингів, а жодну не налаштовано. ' +
      'Запитання мовою статей ({collection}) працюють уже зараз; адміністратор може увімкнути будь-яку з моделей.',
    notCovered: 'У моїх статтях про це нічого немає.',
    closest: 'Найближчі статті:',
    noneClose: 'Близьких до запитання статей не знайшлося.',
    untranslated: 'Цитати нижче — мовою статей ({collection}), без перекладу.',
  },
  fr: {
    needsModel:
      "Les questions dans votre langue demandent un modèle de réponse (LLM) ou un modèle d'embeddings multilingue, et aucun n'est configuré. " +
      "Les questions dans la langue des articles ({collection}) fonctionnent dès maintenant ; un administrateur peut activer l'un ou l'autre.",
    notCovered: "Les articles dont je dispose n'en parlent pas.",
    closest: 'Les articles les plus proches :',
    noneClose: 'Aucun article ne se rapproche de cette question.',
    untranslated: 'Les citations ci-dessous sont dans la langue des articles ({collection}), non traduites.',
  },
};

/** Languages these lines are written in. */
export const READER_LINE_LANGUAGES: readonly string[] = Object.keys(LINES);

/** The first of `candidates` that has lines, else English. */
export function lineLanguage(...candidates: (string | null | undefined)[]): string {
  return candidates.find((c): c is string => !!c && c in LINES) ?? 'en';
}

/** One line in `lang` (English when it has none), with the collection's language named in it. */
export function readerLine(key: keyof ReaderLines, lang: string, collection: string): string {
  const line = (LINES[lang] ?? LINES.en!)[key];
  return line.replace('{collection}', languageName(collection, lineLanguage(lang)));
}
