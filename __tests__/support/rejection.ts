/** The error a promise rejects with; fails the test if it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => ({ resolved: true as const }),
    (err: unknown) => ({ resolved: false as const, err }),
  )
  if (outcome.resolved) throw new Error('expected the promise to reject, but it resolved')
  if (typeof outcome.err === 'object' && outcome.err !== null && 'message' in outcome.err)
    return outcome.err as Error
  throw new Error(`expected an Error, got ${String(outcome.err)}`)
}
