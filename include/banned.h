/* Functions the project never calls (after git's banned.h): unbounded copies, static-buffer
 * time conversions and unchecked number parsing. Included last by util.h, after system headers,
 * so a use anywhere in the project is a compile error. */
#ifndef INKDIGEST_BANNED_H
#define INKDIGEST_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_inkdigest

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)

#endif
