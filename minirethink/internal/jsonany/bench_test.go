package jsonany

import (
	"encoding/json"
	"testing"
)

// scoreWrite is the START query the service sends to add to a score
// (models.Scores), as the driver frames it.
const scoreWrite = `[1,[64,[[69,[[2,[23]],[65,[[67,[[18,[[10,[23]],null]],[23,[[32,[[10,[23]],"deleting"]]]]]],[55,[[16,[[15,[[14,["leaderboard"]],"players"]],"86c789ae-a8a8-48ef-9653-bbe6d4220b19"]],[69,[[2,[24]],[65,[[17,[[10,[24]],null]],[12,["leaderboard: player is on another board"]],[18,[[31,[[10,[24]],"board"]],"f4ae7505-ce0a-4892-ab63-39b99275711e"]],[12,["leaderboard: player is on another board"]],[67,[[17,["incr","incr"]],false]],[12,["leaderboard: amount out of range"]],[67,[[17,["incr","incr"]],[21,[[31,[[10,[24]],"score"]],9007199254740991]]]],[12,["leaderboard: score out of range"]],[17,[[65,[[17,["incr","set"]],1,[17,["incr","best"]],[65,[[17,[[92,[[31,[[10,[23]],"order"]],"desc"]],"asc"]],[65,[[20,[[31,[[10,[24]],"score"]],1]],[31,[[10,[24]],"score"]],1]],[65,[[22,[[31,[[10,[24]],"score"]],1]],[31,[[10,[24]],"score"]],1]]]],[24,[[31,[[10,[24]],"score"]],1]]]],[31,[[10,[24]],"score"]]]],[35,[[10,[24]],{}]],[17,[[92,[[31,[[10,[23]],"order"]],"desc"]],"asc"]],[35,[[10,[24]],{"rank_score":[26,[[65,[[17,["incr","set"]],1,[17,["incr","best"]],[65,[[17,[[92,[[31,[[10,[23]],"order"]],"desc"]],"asc"]],[65,[[20,[[31,[[10,[24]],"score"]],1]],[31,[[10,[24]],"score"]],1]],[65,[[22,[[31,[[10,[24]],"score"]],1]],[31,[[10,[24]],"score"]],1]]]],[24,[[31,[[10,[24]],"score"]],1]]]],-1]],"reached_at":[102,[[103]]],"score":[65,[[17,["incr","set"]],1,[17,["incr","best"]],[65,[[17,[[92,[[31,[[10,[23]],"order"]],"desc"]],"asc"]],[65,[[20,[[31,[[10,[24]],"score"]],1]],[31,[[10,[24]],"score"]],1]],[65,[[22,[[31,[[10,[24]],"score"]],1]],[31,[[10,[24]],"score"]],1]]]],[24,[[31,[[10,[24]],"score"]],1]]]]}]],[35,[[10,[24]],{"reached_at":[102,[[103]]],"score":[65,[[17,["incr","set"]],1,[17,["incr","best"]],[65,[[17,[[92,[[31,[[10,[23]],"order"]],"desc"]],"asc"]],[65,[[20,[[31,[[10,[24]],"score"]],1]],[31,[[10,[24]],"score"]],1]],[65,[[22,[[31,[[10,[24]],"score"]],1]],[31,[[10,[24]],"score"]],1]]]],[24,[[31,[[10,[24]],"score"]],1]]]]}]]]]]]],{"return_changes":"always"}],[12,["leaderboard: no such board"]]]]]],[16,[[15,[[14,["leaderboard"]],"boards"]],"f4ae7505-ce0a-4892-ab63-39b99275711e"]]]],{"db":[14,["leaderboard"]]}]`

func BenchmarkDecode(b *testing.B) {
	data := []byte(scoreWrite)
	b.Run("jsonany", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
