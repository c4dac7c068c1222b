# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed_text.cmake: the text of IN as a
# NUL-terminated C array `const char NAME[]`, so that assets (the atlas viewer page) are kept
# as ordinary files in the tree and still ship inside the binary.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by third_party/embed_text.cmake. */\nconst char ${NAME}[] = {${bytes}0x00};\n")
