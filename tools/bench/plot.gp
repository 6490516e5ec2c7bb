# SPDX-License-Identifier: GPL-2.0
# Plot of the bus1 benchmarks; called by report.py with
#   gnuplot -e "dir='DATA DIR'; out='PNG'; title='TITLE'" plot.gp
# reading the *.dat files report.py wrote into DATA DIR.

set terminal pngcairo size 1500,950 font "Sans,10"
set output out
set datafile missing "-"
set grid ytics lc rgb "#dddddd"
set key top left box opaque
set style line 1 lc rgb "#d62728" lw 2 pt 7 ps 1.2   # bus1
set style line 2 lc rgb "#1f77b4" lw 2 pt 5 ps 1.0   # AF_UNIX
set style line 3 lc rgb "#2ca02c" lw 2 pt 9 ps 1.2   # pipe
set style line 4 lc rgb "#9467bd" lw 2 pt 11 ps 1.2  # binder
set style line 5 lc rgb "#555555" lw 1 dt 2          # targets

set multiplot layout 2,3 title title font "Sans,13"

# 1: round trip p50 per payload
set title "Round trip, 2 processes on 1 CPU (p50)"
set ylabel "microseconds"
set xlabel "payload"
set yrange [0:*]
set xrange [-0.3:4.3]
plot dir."/rtt.dat" using 1:3:xtic(2) with linespoints ls 1 title "bus1", \
     "" using 1:4 with linespoints ls 2 title "AF\\_UNIX seqpacket", \
     "" using 1:5 with linespoints ls 3 title "pipe", \
     "" using 1:6 with linespoints ls 4 title "binder"

# 2: round-trip ratios
set title "Round trip: bus1 / alternative (p50; < 1 = bus1 faster)"
set ylabel "ratio"
set yrange [0:*]
set key bottom right
plot dir."/rtt.dat" using 1:7:xtic(2) with linespoints ls 2 title "bus1 / AF\\_UNIX", \
     "" using 1:8 with linespoints ls 3 title "bus1 / pipe", \
     "" using 1:9 with linespoints ls 4 title "bus1 / binder", \
     1 with lines lc rgb "black" lw 1 notitle, \
     0.8 with lines lc rgb "#1f77b4" dt 2 title "target vs AF\\_UNIX (64 B)", \
     1.05 with lines lc rgb "#2ca02c" dt 2 title "target vs pipe (64 B)"
set key top left

# 3: same-thread send+recv
set title "Same thread: send to itself + receive (p50)"
set ylabel "microseconds"
set yrange [0:*]
plot dir."/self.dat" using 1:3:xtic(2) with linespoints ls 1 title "bus1", \
     "" using 1:4 with linespoints ls 2 title "AF\\_UNIX seqpacket", \
     "" using 1:5 with linespoints ls 3 title "pipe"

# 4: multicast
set title "Multicast: one SEND (64 B) to N receiver peers (p50)"
set xlabel "destinations N"
set ylabel "microseconds per SEND"
set xrange [0:264]
set yrange [0:*]
set xtics 32
plot dir."/multicast.dat" using 1:2 with linespoints ls 1 title "a process per receiver", \
     "" using 1:3 with linespoints ls 2 title "one process polls all"
set xtics autofreq

# 5: scaling
set title "SEND / RECV / round trip with more handles (p50, vs 10 handles)"
set xlabel "handles held by the sender (= nodes of the receiver)"
set ylabel "relative to the smallest count"
set xrange [-0.3:2.3]
set yrange [0:1.5]
plot dir."/scale.dat" using 1:3:xtic(2) with linespoints ls 1 title "SEND", \
     "" using 1:4 with linespoints ls 2 title "RECV", \
     "" using 1:5 with linespoints ls 3 title "round trip", \
     1.1 with lines ls 5 title "target 1.1"

# 6: memory
set title "Kernel memory per queued/held object (slab delta)"
set xlabel ""
set ylabel "bytes"
set style fill solid 0.6
set boxwidth 0.6
set autoscale x
set offsets 0.6, 0.6, 25, 0
set yrange [0:*]
plot dir."/memory.dat" using 1:3:xtic(2) with boxes lc rgb "#d62728" notitle, \
     "" using 1:3:(sprintf("%.0f", $3)) with labels offset 0,0.8 notitle, \
     128 with lines ls 5 title "handle target 128"

unset multiplot
