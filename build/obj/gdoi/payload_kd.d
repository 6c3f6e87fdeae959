build/obj/gdoi/payload_kd.o: gdoi/payload_kd.c gdoi/codec.h gdoi/arena.h \
 gdoi/err.h gdoi/payload.h gdoi/bytes.h gdoi/numbers.h gdoi/wire.h
gdoi/codec.h:
gdoi/arena.h:
gdoi/err.h:
gdoi/payload.h:
gdoi/bytes.h:
gdoi/numbers.h:
gdoi/wire.h:
