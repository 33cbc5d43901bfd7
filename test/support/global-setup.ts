/** Runs once before the suite: builds the offline fixture embedding model if it is missing. */
export default async function setup(): Promise<void> {
  const { ensureFixtureModel } = await import('./fixture-model.js');
  await ensureFixtureModel();
}
