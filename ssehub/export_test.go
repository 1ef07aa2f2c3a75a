package ssehub

// Subscribers reports how many streams topic has, so tests can wait for a
// subscription to be in place instead of sleeping.
func (h *Hub) Subscribers(topic string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if t := h.topics[topic]; t != nil {
		return len(t.subs)
	}
	return 0
}
