build/obj/gdoi/payload_sa.o: gdoi/payload_sa.c gdoi/codec.h gdoi/arena.h \
 gdoi/err.h gdoi/payload.h gdoi/bytes.h gdoi/numbers.h gdoi/wire.h
gdoi/codec.h:
gdoi/arena.h:
gdoi/err.h:
gdoi/payload.h:
gdoi/bytes.h:
gdoi/numbers.h:
gdoi/wire.h:
