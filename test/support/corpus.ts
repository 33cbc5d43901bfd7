/** A small multi-article corpus written for retrieval tests: distinct topics, dates and vocabulary. */
import { mdArticle } from './stack.js';

export const CORPUS: Record<string, string> = {
  'volcano.md': mdArticle(
    'Volcano erupts on remote island',
    '2024-03-02',
    'A volcano on the island of Tamuna erupted on Saturday, sending ash eight kilometres into the sky.\n\nGeologists from the national survey said lava flows reached the northern coast. About 3,000 residents were evacuated by ferry to the mainland.',
  ),
  'chess.md': mdArticle(
    'Teenager wins national chess championship',
    '2024-05-14',
    'A sixteen-year-old from Riverton won the national chess championship after a tense final game against the defending champion.\n\nThe tournament, held in the capital, drew 240 players. The winner said she trained with an old chessboard given by her grandfather.',
  ),
  'bridge.md': mdArticle(
    'City council approves new bridge over the Elm river',
    '2024-06-20',
    'The city council voted eleven to four to approve a new pedestrian bridge over the Elm river.\n\nConstruction will cost 42 million dollars and should finish in 2026. Opponents argued the money should fund bus routes instead.',
  ),
  'vaccine.md': mdArticle(
    'Health ministry launches measles vaccination campaign',
    '2023-11-05',
    'The health ministry launched a nationwide measles vaccination campaign targeting two million children.\n\nMobile clinics will visit rural villages, and nurses will be trained to keep vaccines cold during transport.',
  ),
  'rocket.md': mdArticle(
    'Private rocket reaches orbit on first attempt',
    '2024-06-25',
    'A privately built rocket reached orbit on its first launch attempt, carrying a small weather satellite.\n\nThe company founder thanked the engineers and promised a crewed flight within five years.',
  ),
};
