build/obj/gdoi/payload_tek.o: gdoi/payload_tek.c gdoi/codec.h \
 gdoi/arena.h gdoi/err.h gdoi/payload.h gdoi/bytes.h gdoi/numbers.h \
 gdoi/wire.h
gdoi/codec.h:
gdoi/arena.h:
gdoi/err.h:
gdoi/payload.h:
gdoi/bytes.h:
gdoi/numbers.h:
gdoi/wire.h:
