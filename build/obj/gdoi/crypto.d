build/obj/gdoi/crypto.o: gdoi/crypto.c gdoi/crypto.h gdoi/bytes.h \
 gdoi/err.h
gdoi/crypto.h:
gdoi/bytes.h:
gdoi/err.h:
