package rankcache

import "github.com/leaderboardhq/leaderboard/models"

// standings is one board's entries: the order-statistic tree and each
// player's current entry by id (sharing the id's bytes with the tree).
type standings struct {
	tree *tree
	ids  map[string]place
}

// place is a player's score and time in its entry.
type place struct{ s, t float64 }

func newStandings() *standings { return &standings{tree: newTree(), ids: map[string]place{}} }

// put sets the player's entry to k.
func (b *standings) put(k models.EntryKey) {
	b.remove(k.ID)
	b.tree.insert(k)
	b.ids[k.ID] = place{k.S, k.T}
}

// remove takes the player's entry out, if it has one.
func (b *standings) remove(id string) {
	if p, ok := b.ids[id]; ok {
		b.tree.delete(models.EntryKey{S: p.s, T: p.t, ID: id})
		delete(b.ids, id)
	}
}

// own is the entry the player id has, if any.
func (b *standings) own(id string) (models.EntryKey, bool) {
	p, ok := b.ids[id]
	return models.EntryKey{S: p.s, T: p.t, ID: id}, ok
}

// rank is the rank of a player at k among the others: one more than the
// entries with a better score and time, not counting its own entry.
func (b *standings) rank(k models.EntryKey) int {
	better := b.tree.n - b.tree.countAtMost(k.S, k.T)
	if own, ok := b.own(k.ID); ok && (own.S > k.S || (own.S == k.S && own.T > k.T)) {
		better--
	}
	return better + 1
}

// position is how many entries come before a player at k in the standings
// (the index read descending), not counting its own entry.
func (b *standings) position(k models.EntryKey) int {
	t := b.tree
	greater := t.n - t.countLess(k)
	if own, ok := b.own(k.ID); ok && !less(own, k) {
		greater-- // its own entry, at k or after it
	}
	return greater
}
