package reql

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The engine's side of transformed feeds: they keep their base feed
// registered while open, and let it go when closed, ended by an error, or
// abandoned by a query that failed after making them.
func TestTransformedFeedLifetime(t *testing.T) {
	m, tb := writeTestEngine(t, obj("id", "a", "score", 1.0))

	f := openFeed(t, m, `[38,[[152,[`+playersTable+`]],[69,[[2,[1]],[31,[[10,[1]],"new_val"]]]]]]`)
	require.Len(t, tb.observers, 1)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"score":2}]]`)
	assert.Equal(t, []any{obj("id", "a", "score", 2.0)}, collect(t, f, 1))
	f.Close()
	assert.Empty(t, tb.observers, "Close lets the base feed go")

	// A query failing after making the feed does not keep it.
	_, err := run(t, m, `[24,[[38,[[152,[`+playersTable+`]],[69,[[2,[1]],[10,[1]]]]]],1]]`)
	require.Error(t, err)
	assert.Empty(t, tb.observers, "an abandoned transformed feed is closed")

	// A transformation failing on a document ends the feed.
	f = openFeed(t, m, `[38,[[152,[`+playersTable+`],{"include_states":true}],[69,[[2,[1]],[31,[[10,[1]],"new_val"]]]]]]`)
	_, err = f.Next(t.Context(), false)
	var rerr *Error
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, "No attribute `new_val` in object:\n{\n\t\"state\":\t\"ready\"\n}", rerr.Msg)
	assert.Empty(t, tb.observers, "the ended feed is let go")
	_, err = f.Next(t.Context(), false)
	assert.ErrorAs(t, err, &rerr, "and stays ended")

	// Terms other than the transformations are refused by name.
	_, err = run(t, m, `[71,[[152,[`+playersTable+`]],1]]`)
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, errFeedTerm("").Msg, rerr.Msg)
	assert.Empty(t, tb.observers)
}

// TestTopNOffsetsSquashed: squashing a top-N feed merges a change into the
// one before it whose new value it starts from, keeping that one's
// new_offset, as limit_sub_t::apply_queued_changes sets new_d alone.
func TestTopNOffsetsSquashed(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "score", 11.0), obj("id", "c", "score", 6.0), obj("id", "d", "score", 3.0))
	mustRun(t, m, `[75,[`+playersTable+`,"score"]]`)
	f := openFeed(t, m, `[152,[[71,[[41,[`+playersTable+`],{"index":[74,["score"]]}],2]]],{"squash":true,"include_offsets":true}]`)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"d"]],{"score":7}]]`)  // d takes c's place, rank 1
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"d"]],{"score":20}]]`) // d moves to rank 0
	assert.Equal(t, []any{map[string]any{
		"old_val": obj("id", "c", "score", 6.0), "old_offset": 1.0,
		"new_val": obj("id", "d", "score", 20.0), "new_offset": 1.0,
	}}, collect(t, f, 1))
}
