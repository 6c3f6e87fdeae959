build/obj/gdoi/payload_simple.o: gdoi/payload_simple.c gdoi/codec.h \
 gdoi/arena.h gdoi/err.h gdoi/payload.h gdoi/bytes.h gdoi/numbers.h \
 gdoi/wire.h
gdoi/codec.h:
gdoi/arena.h:
gdoi/err.h:
gdoi/payload.h:
gdoi/bytes.h:
gdoi/numbers.h:
gdoi/wire.h:
