package connlimit

// TotalFor is DefaultTotal for a given file limit.
var TotalFor = totalFor
