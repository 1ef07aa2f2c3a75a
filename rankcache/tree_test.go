package rankcache

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/models"
)

func cmpKey(a, b models.EntryKey) int {
	switch {
	case less(a, b):
		return -1
	case less(b, a):
		return 1
	}
	return 0
}

// The tree agrees with a sorted slice through random inserts and deletes,
// with many ties (few distinct scores and times), on every question.
func TestTreeAgreesWithASortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr := newTree()
	var ref []models.EntryKey
	key := func() models.EntryKey {
		return models.EntryKey{S: float64(rng.IntN(50)), T: float64(rng.IntN(3)), ID: fmt.Sprintf("p%05d", rng.IntN(20000))}
	}
	check := func() {
		t.Helper()
		require.Equal(t, len(ref), tr.n)
		if len(ref) == 0 {
			return
		}
		for range 20 {
			i := rng.IntN(len(ref))
			require.Equal(t, ref[i], tr.at(i))
			k := ref[i]
			require.True(t, tr.contains(k))
			assert.Equal(t, i, tr.countLess(k))
			better := 0
			for _, e := range ref {
				if e.S > k.S || (e.S == k.S && e.T > k.T) {
					better++
				}
			}
			require.Equal(t, better+1, tr.rank(k))
		}
	}
	for step := range 30000 {
		k := key()
		i, found := slices.BinarySearchFunc(ref, k, cmpKey)
		if step%3 == 2 && len(ref) > 0 {
			// Delete a present one.
			j := rng.IntN(len(ref))
			require.True(t, tr.delete(ref[j]))
			ref = slices.Delete(ref, j, j+1)
		} else {
			assert.Equal(t, !found, tr.insert(k))
			if !found {
				ref = slices.Insert(ref, i, k)
			}
		}
		assert.False(t, tr.delete(models.EntryKey{S: -1, ID: "absent"}))
		if step%1000 == 0 {
			check()
		}
	}
	check()
	for len(ref) > 0 {
		j := rng.IntN(len(ref))
		require.True(t, tr.delete(ref[j]))
		ref = slices.Delete(ref, j, j+1)
		if len(ref)%997 == 0 {
			check()
		}
	}
	assert.Zero(t, tr.n)
	assert.True(t, tr.insert(models.EntryKey{ID: "again"}), "an emptied tree takes entries again")
}
