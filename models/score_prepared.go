package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// preparedScores are the score write's queries without metadata (the
// common case, a game server's score-add), encoded once per shape with
// placeholders for the board, the player and the value. The driver builds a
// query by calling its Go functions through reflection and encodes the
// result at every call: with this query that was a third of a score-add's
// CPU in the web process. Filling a prepared query is a few appends, and
// sends byte for byte what the driver would (TestPreparedScoreQueries).
type preparedScores struct {
	mu     sync.RWMutex
	shapes map[scoreShape]*preparedQuery
}

// scoreShape is what decides a score write's query apart from its values.
type scoreShape struct {
	op               string
	negative, tooBig bool
}

// preparedQuery is JSON with holes: parts[0], holes[0], parts[1], ...
type preparedQuery struct {
	parts [][]byte
	holes []hole
	size  int
}

type hole int

const (
	holeBoard hole = iota
	holePlayer
	holeValue
	holeBound
	holes
)

// placeholders stand for the values while a query is prepared; a caller's
// board or player id could be any string, but fill writes those, JSON
// encoded, only where a placeholder was.
var placeholders = [holes]string{"\x00board", "\x00player", "\x00value", "\x00bound"}

func (ps *preparedScores) fill(p *Players, board, id, op string, v int64) (r.Term, error) {
	sv := valueOf(v)
	q, err := ps.get(p, scoreShape{op: op, negative: sv.negative, tooBig: sv.tooBig})
	if err != nil {
		return r.Term{}, err
	}
	b := make([]byte, 0, q.size+2*len(board)+len(id)+64)
	for i, part := range q.parts {
		b = append(b, part...)
		if i == len(q.holes) {
			break
		}
		switch q.holes[i] {
		case holeBoard:
			b = appendJSONString(b, board)
		case holePlayer:
			b = appendJSONString(b, id)
		case holeValue:
			b = strconv.AppendInt(b, v, 10)
		case holeBound:
			b = strconv.AppendInt(b, sv.bound.(int64), 10)
		}
	}
	return r.RawQuery(b), nil
}

func (ps *preparedScores) get(p *Players, shape scoreShape) (*preparedQuery, error) {
	ps.mu.RLock()
	q := ps.shapes[shape]
	ps.mu.RUnlock()
	if q != nil {
		return q, nil
	}
	q, err := prepareScoreQuery(p, shape)
	if err != nil {
		return nil, err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.shapes == nil {
		ps.shapes = map[scoreShape]*preparedQuery{}
	}
	ps.shapes[shape] = q
	return q, nil
}

func prepareScoreQuery(p *Players, shape scoreShape) (*preparedQuery, error) {
	sv := scoreValue{v: placeholders[holeValue], bound: placeholders[holeBound], negative: shape.negative, tooBig: shape.tooBig}
	built, err := p.scoreQuery(placeholders[holeBoard], placeholders[holePlayer], shape.op, sv, nil).Build()
	if err != nil {
		return nil, fmt.Errorf("prepare score query: %w", err)
	}
	data, err := json.Marshal(built)
	if err != nil {
		return nil, fmt.Errorf("prepare score query: %w", err)
	}
	encoded := make([][]byte, holes)
	for h, s := range placeholders {
		encoded[h], _ = json.Marshal(s)
	}
	q := &preparedQuery{size: len(data)}
	for {
		at, which := -1, hole(0)
		for h, e := range encoded {
			if i := bytes.Index(data, e); i >= 0 && (at < 0 || i < at) {
				at, which = i, hole(h)
			}
		}
		if at < 0 {
			break
		}
		q.parts = append(q.parts, data[:at])
		q.holes = append(q.holes, which)
		data = data[at+len(encoded[which]):]
	}
	q.parts = append(q.parts, data)
	return q, nil
}

// appendJSONString appends s as the driver's encoder writes it.
func appendJSONString(b []byte, s string) []byte {
	e, _ := json.Marshal(s)
	return append(b, e...)
}
