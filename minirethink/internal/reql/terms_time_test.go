package reql

import (
	"testing"
)

// The embedded server's refusals around times: what RethinkDB leaves to
// Boost's parser or computes with overflowing microseconds is an error
// naming the term, never a guess.
func TestTimeRefusals(t *testing.T) {
	m := New()
	runExprCases(t, m, []exprCase{
		{
			name: "iso8601 month 13", query: `[99,["2013-13-01T00:00:00Z"]]`, errType: logicErr,
			errMsg: ErrUnsupported("`iso8601` of \"2013-13-01T00:00:00Z\" (a field out of range, which Boost's parser judges)").Msg,
		},
		{
			name: "iso8601 hour 24", query: `[99,["2013-01-01T24:00Z"]]`, errType: logicErr,
			errMsg: ErrUnsupported("`iso8601` of \"2013-01-01T24:00Z\" (a field out of range, which Boost's parser judges)").Msg,
		},
		{
			name: "iso8601 default offset Boost reads its own way", query: `[99,["2013-01-01T00:00"],{"default_timezone":"+0530"}]`,
			errType: logicErr, errMsg: ErrUnsupported("`iso8601` with the `default_timezone` \"+0530\"").Msg,
		},
		{
			name: "hours of a huge epoch", query: `[133,[[101,[1e13]]]]`, errType: logicErr,
			errMsg: ErrUnsupported("`hours` of a time more than 8e+12 seconds from 1970").Msg,
		},
		{name: "to_epoch_time of a huge epoch", query: `[102,[[101,[1e13]]]]`, want: 1e13},
		{name: "day_of_year of an ordinal date", query: `[132,[[99,["2012-366T12Z"]]]]`, want: 366.0},
		{name: "negative minutes", query: `[100,[[136,[2013,1,1,1,-30,0,"Z"]]]]`, want: "2012-12-31T22:30:00+00:00"},
		{name: "wrapped year", query: `[128,[[136,[67000,1,1,"Z"]]]]`, want: 1464.0},
	})
}
