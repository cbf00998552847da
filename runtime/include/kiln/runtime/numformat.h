/* to_char of numbers: PostgreSQL's number template patterns (formatting.c: NUMDesc_prepare and
 * NUM_processor), in the "C" locale (decimal point ".", group separator ",", currency symbol " ").
 *
 * A template is read once into nodes and a description (kiln_numfmt_parse: the binder checks a
 * constant template with it, so that a bad one is a compile-time error with PostgreSQL's
 * message); the caller then writes the number as PostgreSQL's numeric_to_char, int4_to_char and
 * float8_to_char do (rounded to `post` digits after the point, times 10^multi for V: its
 * unsigned digits and sign), and kiln_numfmt_render lays it out along the nodes.
 *
 * Patterns: 9 0 . D , G FM S MI PL SG PR L V TH th RN rn EEEE (B, C and SP are read and print
 * nothing, as in PostgreSQL), each in upper or lower case; other characters, and double-quoted
 * text, are copied. Plain C: the stdlib (C) and the binder (C++) include it. */
#ifndef KILN_RUNTIME_NUMFORMAT_H
#define KILN_RUNTIME_NUMFORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kiln_numfmt_id {
  KILN_NUM_CHAR = 0, /* a character copied to the output (`ch`) */
  KILN_NUM_COMMA,
  KILN_NUM_DEC,
  KILN_NUM_0,
  KILN_NUM_9,
  KILN_NUM_B,
  KILN_NUM_C,
  KILN_NUM_D,
  KILN_NUM_E,
  KILN_NUM_FM,
  KILN_NUM_G,
  KILN_NUM_L,
  KILN_NUM_MI,
  KILN_NUM_PL,
  KILN_NUM_PR,
  KILN_NUM_RN,
  KILN_NUM_rn,
  KILN_NUM_SG,
  KILN_NUM_SP,
  KILN_NUM_S,
  KILN_NUM_TH,
  KILN_NUM_th,
  KILN_NUM_V
} kiln_numfmt_id;

typedef struct kiln_numfmt_node {
  int32_t id; /* kiln_numfmt_id */
  char ch;    /* KILN_NUM_CHAR */
} kiln_numfmt_node;

enum {
  KILN_NUMF_DECIMAL = 1 << 1,
  KILN_NUMF_ZERO = 1 << 3,
  KILN_NUMF_BLANK = 1 << 4,
  KILN_NUMF_FILLMODE = 1 << 5,
  KILN_NUMF_LSIGN = 1 << 6,
  KILN_NUMF_BRACKET = 1 << 7,
  KILN_NUMF_MINUS = 1 << 8,
  KILN_NUMF_PLUS = 1 << 9,
  KILN_NUMF_ROMAN = 1 << 10,
  KILN_NUMF_MULTI = 1 << 11,
  KILN_NUMF_EEEE = 1 << 14
};
enum { KILN_LSIGN_NONE = 0, KILN_LSIGN_PRE = -1, KILN_LSIGN_POST = 1 };

/* PostgreSQL's NUMDesc. */
typedef struct kiln_numfmt {
  int32_t pre;           /* digits before the decimal point */
  int32_t post;          /* digits after it */
  int32_t lsign;         /* where S is */
  int32_t flag;          /* KILN_NUMF_* */
  int32_t pre_lsign_num; /* digits before S */
  int32_t multi;         /* digits after V */
  int32_t zero_start;    /* the first 0 (1-based) */
  int32_t zero_end;      /* the last 0 */
  int32_t nodes;         /* nodes read */
} kiln_numfmt;

/* The keywords in the order PostgreSQL's search tries them (NUM_keywords): the first that
 * matches wins, so "SG" and "SP" come before "S". */
static const struct {
  const char *name;
  int32_t len;
  int32_t id;
} kiln_numfmt_keywords[] = {
    {",", 1, KILN_NUM_COMMA}, {".", 1, KILN_NUM_DEC},  {"0", 1, KILN_NUM_0},
    {"9", 1, KILN_NUM_9},     {"B", 1, KILN_NUM_B},    {"C", 1, KILN_NUM_C},
    {"D", 1, KILN_NUM_D},     {"EEEE", 4, KILN_NUM_E}, {"FM", 2, KILN_NUM_FM},
    {"G", 1, KILN_NUM_G},     {"L", 1, KILN_NUM_L},    {"MI", 2, KILN_NUM_MI},
    {"PL", 2, KILN_NUM_PL},   {"PR", 2, KILN_NUM_PR},  {"RN", 2, KILN_NUM_RN},
    {"SG", 2, KILN_NUM_SG},   {"SP", 2, KILN_NUM_SP},  {"S", 1, KILN_NUM_S},
    {"TH", 2, KILN_NUM_TH},   {"V", 1, KILN_NUM_V},    {"b", 1, KILN_NUM_B},
    {"c", 1, KILN_NUM_C},     {"d", 1, KILN_NUM_D},    {"eeee", 4, KILN_NUM_E},
    {"fm", 2, KILN_NUM_FM},   {"g", 1, KILN_NUM_G},    {"l", 1, KILN_NUM_L},
    {"mi", 2, KILN_NUM_MI},   {"pl", 2, KILN_NUM_PL},  {"pr", 2, KILN_NUM_PR},
    {"rn", 2, KILN_NUM_rn},   {"sg", 2, KILN_NUM_SG},  {"sp", 2, KILN_NUM_SP},
    {"s", 1, KILN_NUM_S},     {"th", 2, KILN_NUM_th},  {"v", 1, KILN_NUM_V},
};

/* NUMDesc_prepare for one keyword: NULL, or PostgreSQL's error message. */
static inline const char *kiln_numfmt_prepare(kiln_numfmt *num, int32_t id) {
  int32_t f = num->flag;
  if ((f & KILN_NUMF_EEEE) && id != KILN_NUM_E)
    return "\"EEEE\" must be the last pattern used";
  switch (id) {
  case KILN_NUM_9:
    if (f & KILN_NUMF_BRACKET)
      return "\"9\" must be ahead of \"PR\"";
    if (f & KILN_NUMF_MULTI)
      ++num->multi;
    else if (f & KILN_NUMF_DECIMAL)
      ++num->post;
    else
      ++num->pre;
    return NULL;
  case KILN_NUM_0:
    if (f & KILN_NUMF_BRACKET)
      return "\"0\" must be ahead of \"PR\"";
    if (!(f & KILN_NUMF_ZERO) && !(f & KILN_NUMF_DECIMAL)) {
      num->flag |= KILN_NUMF_ZERO;
      num->zero_start = num->pre + 1;
    }
    if (!(f & KILN_NUMF_DECIMAL))
      ++num->pre;
    else
      ++num->post;
    num->zero_end = num->pre + num->post;
    return NULL;
  case KILN_NUM_B:
    if (num->pre == 0 && num->post == 0 && !(f & KILN_NUMF_ZERO))
      num->flag |= KILN_NUMF_BLANK;
    return NULL;
  case KILN_NUM_D:
  case KILN_NUM_DEC:
    if (f & KILN_NUMF_DECIMAL)
      return "multiple decimal points";
    if (f & KILN_NUMF_MULTI)
      return "cannot use \"V\" and decimal point together";
    num->flag |= KILN_NUMF_DECIMAL;
    return NULL;
  case KILN_NUM_FM:
    num->flag |= KILN_NUMF_FILLMODE;
    return NULL;
  case KILN_NUM_S:
    if (f & KILN_NUMF_LSIGN)
      return "cannot use \"S\" twice";
    if (f & (KILN_NUMF_PLUS | KILN_NUMF_MINUS | KILN_NUMF_BRACKET))
      return "cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together";
    if (!(f & KILN_NUMF_DECIMAL)) {
      num->lsign = KILN_LSIGN_PRE;
      num->pre_lsign_num = num->pre;
      num->flag |= KILN_NUMF_LSIGN;
    } else if (num->lsign == KILN_LSIGN_NONE) {
      num->lsign = KILN_LSIGN_POST;
      num->flag |= KILN_NUMF_LSIGN;
    }
    return NULL;
  case KILN_NUM_MI:
    if (f & KILN_NUMF_LSIGN)
      return "cannot use \"S\" and \"MI\" together";
    num->flag |= KILN_NUMF_MINUS;
    return NULL;
  case KILN_NUM_PL:
    if (f & KILN_NUMF_LSIGN)
      return "cannot use \"S\" and \"PL\" together";
    num->flag |= KILN_NUMF_PLUS;
    return NULL;
  case KILN_NUM_SG:
    if (f & KILN_NUMF_LSIGN)
      return "cannot use \"S\" and \"SG\" together";
    num->flag |= KILN_NUMF_MINUS | KILN_NUMF_PLUS;
    return NULL;
  case KILN_NUM_PR:
    if (f & (KILN_NUMF_LSIGN | KILN_NUMF_PLUS | KILN_NUMF_MINUS))
      return "cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together";
    num->flag |= KILN_NUMF_BRACKET;
    return NULL;
  case KILN_NUM_RN:
  case KILN_NUM_rn:
    num->flag |= KILN_NUMF_ROMAN;
    return NULL;
  case KILN_NUM_V:
    if (f & KILN_NUMF_DECIMAL)
      return "cannot use \"V\" and decimal point together";
    num->flag |= KILN_NUMF_MULTI;
    return NULL;
  case KILN_NUM_E:
    if (f & KILN_NUMF_EEEE)
      return "cannot use \"EEEE\" twice";
    if (f & (KILN_NUMF_BLANK | KILN_NUMF_FILLMODE | KILN_NUMF_LSIGN | KILN_NUMF_BRACKET |
             KILN_NUMF_MINUS | KILN_NUMF_PLUS | KILN_NUMF_ROMAN | KILN_NUMF_MULTI))
      return "\"EEEE\" is incompatible with other formats";
    num->flag |= KILN_NUMF_EEEE;
    return NULL;
  default:
    return NULL;
  }
}

/* Reads template `fmt` (n bytes) into `nodes` (room for n of them) and `num`: NULL, or
 * PostgreSQL's error message for it. */
static inline const char *kiln_numfmt_parse(const char *fmt, size_t n, kiln_numfmt_node *nodes,
                                            kiln_numfmt *num) {
  memset(num, 0, sizeof *num);
  size_t i = 0;
  int32_t count = 0;
  while (i < n) {
    int32_t found = -1, len = 0;
    for (size_t k = 0; k < sizeof kiln_numfmt_keywords / sizeof kiln_numfmt_keywords[0]; ++k) {
      int32_t kl = kiln_numfmt_keywords[k].len;
      if ((size_t)kl <= n - i && memcmp(fmt + i, kiln_numfmt_keywords[k].name, (size_t)kl) == 0) {
        found = kiln_numfmt_keywords[k].id;
        len = kl;
        break;
      }
    }
    if (found >= 0) {
      const char *error = kiln_numfmt_prepare(num, found);
      if (error)
        return error;
      nodes[count].id = found;
      nodes[count++].ch = 0;
      i += (size_t)len;
    } else if (fmt[i] == '"') { /* quoted text, a backslash quoting the character after it */
      for (++i; i < n; ++i) {
        if (fmt[i] == '"') {
          ++i;
          break;
        }
        if (fmt[i] == '\\' && i + 1 < n)
          ++i;
        nodes[count].id = KILN_NUM_CHAR;
        nodes[count++].ch = fmt[i];
      }
    } else {
      if (fmt[i] == '\\' && i + 1 < n && fmt[i + 1] == '"')
        ++i;
      nodes[count].id = KILN_NUM_CHAR;
      nodes[count++].ch = fmt[i++];
    }
  }
  num->nodes = count;
  return NULL;
}

/* An upper bound of the output's length for a template of n bytes (PostgreSQL's
 * NUM_MAX_ITEM_SIZ per byte), with room for a number `digits` long. */
static inline size_t kiln_numfmt_capacity(size_t n, size_t digits) { return n * 8 + digits + 16; }

/* The last digit after the point that is not 0, or the point itself; NULL without a point. */
static inline const char *kiln_numfmt_last_relevant(const char *num) {
  const char *p = strchr(num, '.');
  if (!p)
    return NULL;
  const char *result = p;
  while (*(++p))
    if (*p != '0')
      result = p;
  return result;
}

/* English ordinal suffix of the number's last digits ("st", "nd", "rd", "th"). */
static inline const char *kiln_numfmt_th(const char *num, int upper) {
  size_t len = strlen(num);
  char last = len ? num[len - 1] : '0';
  int teen = len > 1 && num[len - 2] == '1';
  const char *lower = teen || last < '1' || last > '3' ? "th"
                      : last == '1'                    ? "st"
                      : last == '2'                    ? "nd"
                                                       : "rd";
  if (!upper)
    return lower;
  return lower[0] == 't' ? "TH" : lower[0] == 's' ? "ST" : lower[0] == 'n' ? "ND" : "RD";
}

typedef struct kiln_numfmt_state {
  kiln_numfmt *num;
  int sign_wrote;
  int num_in;
  int32_t num_curr, num_count, out_pre_spaces;
  char sign;
  const char *number, *number_p, *last_relevant;
  char *out;
} kiln_numfmt_state;

static inline int kiln_numfmt_predec_space(const kiln_numfmt_state *s) {
  return !(s->num->flag & KILN_NUMF_ZERO) && s->number == s->number_p && *s->number == '0' &&
         s->num->post != 0;
}

/* NUM_numpart_to_char: a 9, 0, . or D. */
static inline void kiln_numfmt_numpart(kiln_numfmt_state *s, int32_t id) {
  kiln_numfmt *num = s->num;
  int32_t f = num->flag;
  if (f & KILN_NUMF_ROMAN)
    return;
  s->num_in = 0;
  if (!s->sign_wrote &&
      (s->num_curr >= s->out_pre_spaces ||
       ((f & KILN_NUMF_ZERO) && num->zero_start == s->num_curr)) &&
      (!kiln_numfmt_predec_space(s) || (s->last_relevant && *s->last_relevant == '.'))) {
    if (f & KILN_NUMF_LSIGN) {
      if (num->lsign == KILN_LSIGN_PRE) {
        *s->out++ = s->sign == '-' ? '-' : '+';
        s->sign_wrote = 1;
      }
    } else if (f & KILN_NUMF_BRACKET) {
      *s->out++ = s->sign == '+' ? ' ' : '<';
      s->sign_wrote = 1;
    } else if (s->sign == '+') {
      if (!(f & KILN_NUMF_FILLMODE))
        *s->out++ = ' ';
      s->sign_wrote = 1;
    } else if (s->sign == '-') {
      *s->out++ = '-';
      s->sign_wrote = 1;
    }
  }
  if (s->num_curr < s->out_pre_spaces && (num->zero_start > s->num_curr || !(f & KILN_NUMF_ZERO))) {
    if (!(f & KILN_NUMF_FILLMODE))
      *s->out++ = ' ';
  } else if ((f & KILN_NUMF_ZERO) && s->num_curr < s->out_pre_spaces &&
             num->zero_start <= s->num_curr) {
    *s->out++ = '0';
    s->num_in = 1;
  } else {
    if (*s->number_p == '.') {
      if (!s->last_relevant || *s->last_relevant != '.')
        *s->out++ = '.';
      else if ((f & KILN_NUMF_FILLMODE) && s->last_relevant && *s->last_relevant == '.')
        *s->out++ = '.';
    } else {
      if (s->last_relevant && s->number_p > s->last_relevant && id != KILN_NUM_0) {
        /* a trailing zero FM drops */
      } else if (kiln_numfmt_predec_space(s)) {
        if (!(f & KILN_NUMF_FILLMODE))
          *s->out++ = ' ';
        else if (s->last_relevant && *s->last_relevant == '.')
          *s->out++ = '0';
      } else {
        *s->out++ = *s->number_p;
        s->num_in = 1;
      }
    }
    if (*s->number_p)
      ++s->number_p;
  }
  int32_t end = s->num_count + (s->out_pre_spaces ? 1 : 0) + ((f & KILN_NUMF_DECIMAL) ? 1 : 0);
  if (s->last_relevant && s->last_relevant == s->number_p)
    end = s->num_curr;
  if (s->num_curr + 1 == end) {
    if (s->sign_wrote && (f & KILN_NUMF_BRACKET))
      *s->out++ = s->sign == '+' ? ' ' : '>';
    else if ((f & KILN_NUMF_LSIGN) && num->lsign == KILN_LSIGN_POST)
      *s->out++ = s->sign == '-' ? '-' : '+';
  }
  ++s->num_curr;
}

/* NUM_processor for to_char: lays out `number` (unsigned digits with an optional '.', or '#'s
 * where the number overflowed the template; a Roman numeral; for EEEE the whole text) with
 * `sign` ('+' or '-') along the nodes; `out_pre_spaces` is how many of the template's digits
 * before the point the number leaves unused. Writes at most kiln_numfmt_capacity bytes to
 * `out`; returns the length of the text, which ends at a NUL written in it as PostgreSQL's
 * does. `num` is changed (as PostgreSQL changes its copy). */
static inline size_t kiln_numfmt_render(const kiln_numfmt_node *nodes, kiln_numfmt *num,
                                        const char *number, char sign, int32_t out_pre_spaces,
                                        char *out) {
  kiln_numfmt_state st;
  kiln_numfmt_state *s = &st;
  memset(s, 0, sizeof st);
  s->num = num;
  s->out = out;
  s->number = s->number_p = number;
  s->sign = sign;
  if (num->flag & KILN_NUMF_EEEE) {
    size_t len = strlen(number);
    memcpy(out, number, len);
    return len;
  }
  if (num->flag & KILN_NUMF_ROMAN) {
    num->lsign = num->pre_lsign_num = num->post = num->pre = 0;
    out_pre_spaces = 0;
    s->sign = 0;
    num->flag = (num->flag & KILN_NUMF_FILLMODE) | KILN_NUMF_ROMAN;
  }
  if (num->zero_start)
    --num->zero_start;
  if ((num->flag & KILN_NUMF_PLUS) || (num->flag & KILN_NUMF_MINUS)) {
    s->sign_wrote = !((num->flag & KILN_NUMF_PLUS) && !(num->flag & KILN_NUMF_MINUS)) ? 1 : 0;
  } else {
    if (s->sign != '-' && (num->flag & KILN_NUMF_FILLMODE))
      num->flag &= ~KILN_NUMF_BRACKET;
    s->sign_wrote =
        s->sign == '+' && (num->flag & KILN_NUMF_FILLMODE) && !(num->flag & KILN_NUMF_LSIGN);
    if (num->lsign == KILN_LSIGN_PRE && num->pre == num->pre_lsign_num)
      num->lsign = KILN_LSIGN_POST;
  }
  s->num_count = num->post + num->pre - 1;
  s->out_pre_spaces = out_pre_spaces;
  if ((num->flag & KILN_NUMF_FILLMODE) && (num->flag & KILN_NUMF_DECIMAL)) {
    s->last_relevant = kiln_numfmt_last_relevant(number);
    if (s->last_relevant && num->zero_end > s->out_pre_spaces) {
      const char *last_zero = number + (num->zero_end - s->out_pre_spaces);
      if (s->last_relevant < last_zero)
        s->last_relevant = last_zero;
    }
  }
  if (!s->sign_wrote && s->out_pre_spaces == 0)
    ++s->num_count;
  int fill = num->flag & KILN_NUMF_FILLMODE;
  for (int32_t k = 0; k < num->nodes; ++k) {
    const kiln_numfmt_node *node = &nodes[k];
    switch (node->id) {
    case KILN_NUM_CHAR:
      *s->out++ = node->ch;
      break;
    case KILN_NUM_9:
    case KILN_NUM_0:
    case KILN_NUM_DEC:
    case KILN_NUM_D:
      kiln_numfmt_numpart(s, node->id);
      break;
    case KILN_NUM_COMMA:
    case KILN_NUM_G:
      if (s->num_in)
        *s->out++ = ',';
      else if (!fill)
        *s->out++ = ' ';
      break;
    case KILN_NUM_L:
      *s->out++ = ' '; /* the "C" locale has no currency symbol */
      break;
    case KILN_NUM_RN:
    case KILN_NUM_rn: {
      size_t len = strlen(s->number_p);
      if (!fill)
        for (size_t pad = len; pad < 15; ++pad)
          *s->out++ = ' ';
      for (size_t c = 0; c < len; ++c) {
        char ch = s->number_p[c];
        *s->out++ = node->id == KILN_NUM_rn && ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
      }
      break;
    }
    case KILN_NUM_TH:
    case KILN_NUM_th:
      if ((num->flag & KILN_NUMF_ROMAN) || *s->number == '#' || s->sign == '-' ||
          (num->flag & KILN_NUMF_DECIMAL))
        break;
      memcpy(s->out, kiln_numfmt_th(s->number, node->id == KILN_NUM_TH), 2);
      s->out += 2;
      break;
    case KILN_NUM_MI:
      if (s->sign == '-')
        *s->out++ = '-';
      else if (!fill)
        *s->out++ = ' ';
      break;
    case KILN_NUM_PL:
      if (s->sign == '+')
        *s->out++ = '+';
      else if (!fill)
        *s->out++ = ' ';
      break;
    case KILN_NUM_SG:
      if (s->sign)
        *s->out++ = s->sign;
      break;
    default: /* B, C, SP, S, PR, FM, V, EEEE: no text of their own here */
      break;
    }
  }
  /* A digit position past the number's end writes its NUL, where PostgreSQL's C string ends. */
  const char *nul = (const char *)memchr(out, 0, (size_t)(s->out - out));
  return (size_t)((nul ? nul : s->out) - out);
}

/* PostgreSQL's int_to_roman: 1 to 3999 in Roman numerals, else 15 '#'s (`out`: 16 bytes). */
static inline void kiln_numfmt_roman(int64_t value, char *out) {
  static const char *const thousands[] = {"", "M", "MM", "MMM"};
  static const char *const hundreds[] = {"",  "C",  "CC",  "CCC",  "CD",
                                         "D", "DC", "DCC", "DCCC", "CM"};
  static const char *const tens[] = {"", "X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC"};
  static const char *const ones[] = {"", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"};
  if (value < 1 || value > 3999) {
    memset(out, '#', 15);
    out[15] = 0;
    return;
  }
  out[0] = 0;
  strcat(out, thousands[value / 1000]);
  strcat(out, hundreds[value / 100 % 10]);
  strcat(out, tens[value / 10 % 10]);
  strcat(out, ones[value % 10]);
}

#ifdef __cplusplus
}
#endif

#endif
