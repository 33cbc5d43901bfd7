/** Runs once before the suite: builds the offline fixture models (embedder and cross-encoder) if they are missing. */
export default async function setup(): Promise<void> {
  const { ensureFixtureModel, ensureFixtureReranker } = await import('./fixture-model.js');
  await ensureFixtureModel();
  await ensureFixtureReranker();
}
