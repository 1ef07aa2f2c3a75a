package reql

import "strings"

// A width-bounded pretty printer, RethinkDB 2.4.4's src/pprint/pprint.cc
// (after Oppen, "Prettyprinting", 1980, and Kiselyov et al., "Lazy v.
// Yield"), which lays out index_status's "query" at 80 columns. A document
// is built from text, conditional line breaks, unconditional line breaks,
// concatenations, groups and nests; printing flattens it into a stream of
// elements, annotates each with the column its last character would reach
// if nothing broke, and then breaks every conditional break of a group
// that does not fit before the right edge.

// ppDoc is a document (pprint's document_t).
type ppDoc interface{ ppDoc() }

type (
	// ppText is text printed as it is.
	ppText string
	// ppCond is a conditional line break: small when the enclosing group
	// fits; otherwise tail, a newline, the nest's indentation and cont.
	ppCond struct{ small, cont, tail string }
	// ppBreak is an unconditional line break (linebreak_t).
	ppBreak struct{}
	// ppConcat is its documents one after the other.
	ppConcat []ppDoc
	// ppGroup is a document whose breaks are all taken or all not.
	ppGroup struct{ child ppDoc }
	// ppNest is a group whose breaks indent to the column where it starts.
	ppNest struct{ child ppDoc }
)

func (ppText) ppDoc()   {}
func (ppCond) ppDoc()   {}
func (ppBreak) ppDoc()  {}
func (ppConcat) ppDoc() {}
func (ppGroup) ppDoc()  {}
func (ppNest) ppDoc()   {}

// The documents pprint.cc shares.
var (
	ppCondLinebreak = ppCond{small: " "}            // cond_linebreak
	ppDotLinebreak  = ppCond{small: ".", cont: "."} // dot_linebreak
)

func ppCat(docs ...ppDoc) ppDoc { return ppConcat(docs) }

func ppNestOf(docs ...ppDoc) ppDoc { return ppNest{child: ppConcat(docs)} }

// ppElemKind is the kind of a stream element.
type ppElemKind uint8

const (
	ppElemText ppElemKind = iota
	ppElemCond
	ppElemBreak
	ppElemNestBegin
	ppElemNestEnd
	ppElemGroupBegin
	ppElemGroupEnd
)

// ppElem is one element of the flattened document. hpos is the column its
// last character reaches if nothing breaks; a group's begin gets its end's.
type ppElem struct {
	kind             ppElemKind
	text, cont, tail string // text: the payload, or a cond's small
	hpos             uint64
}

// ppGenerate flattens d (generate_stream_visitor_t); a nest is a group
// inside indentation marks.
func ppGenerate(d ppDoc, out []ppElem) []ppElem {
	switch x := d.(type) {
	case ppText:
		out = append(out, ppElem{kind: ppElemText, text: string(x)})
	case ppCond:
		out = append(out, ppElem{kind: ppElemCond, text: x.small, cont: x.cont, tail: x.tail})
	case ppBreak:
		out = append(out, ppElem{kind: ppElemBreak})
	case ppConcat:
		for _, c := range x {
			out = ppGenerate(c, out)
		}
	case ppGroup:
		out = append(out, ppElem{kind: ppElemGroupBegin})
		out = ppGenerate(x.child, out)
		out = append(out, ppElem{kind: ppElemGroupEnd})
	case ppNest:
		out = append(out, ppElem{kind: ppElemNestBegin}, ppElem{kind: ppElemGroupBegin})
		out = ppGenerate(x.child, out)
		out = append(out, ppElem{kind: ppElemGroupEnd}, ppElem{kind: ppElemNestEnd})
	}
	return out
}

// ppAnnotate sets every element's hpos (annotate_stream_visitor_t, then
// correct_gbeg_visitor_t, which gives a group's begin its end's position).
func ppAnnotate(stream []ppElem) {
	var position uint64
	var open []int // indexes of the group begins not yet ended
	for i := range stream {
		e := &stream[i]
		switch e.kind {
		case ppElemText, ppElemCond:
			position += uint64(len(e.text))
			e.hpos = position
		case ppElemBreak, ppElemNestEnd:
			e.hpos = position
		case ppElemGroupBegin:
			open = append(open, i)
		case ppElemGroupEnd:
			e.hpos = position
			begin := open[len(open)-1]
			open = open[:len(open)-1]
			stream[begin].hpos = position
		}
	}
}

// ppPrint renders d at width columns (pretty_print). Its arithmetic is on
// unsigned 64-bit numbers, size_t's, so that it wraps where RethinkDB's
// does.
func ppPrint(width uint64, d ppDoc) string {
	stream := ppGenerate(d, nil)
	ppAnnotate(stream)
	var (
		out       strings.Builder
		fitting   uint64 // groups entered that fit (fittingElements)
		rightEdge = width
		hpos      uint64
		indent    []uint64
	)
	currentIndent := func() uint64 {
		if len(indent) == 0 {
			return 0
		}
		return indent[len(indent)-1]
	}
	for _, e := range stream {
		switch e.kind {
		case ppElemText:
			out.WriteString(e.text)
			hpos += uint64(len(e.text))
		case ppElemBreak:
			in := currentIndent()
			out.WriteByte('\n')
			out.WriteString(strings.Repeat(" ", int(in)))
			fitting = 0
			hpos = in
			rightEdge = (width - hpos) + e.hpos
		case ppElemCond:
			if fitting != 0 {
				out.WriteString(e.text)
				hpos += uint64(len(e.text))
				continue
			}
			in := currentIndent()
			out.WriteString(e.tail)
			out.WriteByte('\n')
			out.WriteString(strings.Repeat(" ", int(in)))
			out.WriteString(e.cont)
			hpos = in + uint64(len(e.cont))
			rightEdge = (width - hpos) + e.hpos
		case ppElemGroupBegin:
			if fitting != 0 || e.hpos <= rightEdge {
				fitting++
			} else {
				fitting = 0
			}
		case ppElemGroupEnd:
			if fitting != 0 {
				fitting--
			}
		case ppElemNestBegin:
			indent = append(indent, hpos)
		case ppElemNestEnd:
			indent = indent[:len(indent)-1]
		}
	}
	return out.String()
}
