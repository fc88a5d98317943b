/**
 * The ids of expanded tree nodes: a Set that counts its changes, so the virtual tree can cache its rows per
 * (snapshot, version) and skip walking the tree when neither changed.
 */
export class ExpandedSet extends Set<string> {
  version = 0
  override add(id: string): this {
    if (!this.has(id)) this.version++
    return super.add(id)
  }
  override delete(id: string): boolean {
    const had = super.delete(id)
    if (had) this.version++
    return had
  }
  override clear(): void {
    if (this.size > 0) this.version++
    super.clear()
  }
}
