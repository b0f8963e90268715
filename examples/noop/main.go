// A program that exits at once: the baseline for timing golaunch's launch.
package main

func main() {}
