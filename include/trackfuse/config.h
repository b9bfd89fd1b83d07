/*
 * Daemon configuration, read from YAML through libcyaml and checked before
 * use. A reload builds a new struct config and swaps it in only if valid.
 */
#ifndef TRACKFUSE_CONFIG_H
#define TRACKFUSE_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "trackfuse/track.h"

#define CONFIG_ERRLEN		512
#define CONFIG_MAX_FILE		(1024 * 1024)	/* bytes of YAML read at most */
#define CONFIG_MAX_IDENTITIES	8192
#define CONFIG_MAX_SENSORS	64		/* per feed identity */
#define CONFIG_NAME_LEN		64		/* daemon name incl. NUL */
#define CONFIG_MAX_CLASSIFICATIONS 256		/* national level mappings */
#define CONFIG_LEVEL_LEN	64		/* national level name incl. NUL */
#define CONFIG_SECRET_MIN	16		/* subscriber secret bytes */
#define CONFIG_SECRET_MAX	64		/* (32..128 hex digits) */
#define CONFIG_AUDIT_DEFAULT	"audit.log"	/* with policy_dir */
#define CONFIG_MAX_UPLINKS	16		/* federation links out */

enum config_role {
	CONFIG_ROLE_FEED = 1,
	CONFIG_ROLE_SUBSCRIBER = 2
};

/* A peer the daemon knows, matched by its certificate subject CN == id. */
struct config_identity {
	char			*id;
	enum config_role	 role;
	char			*nation;
	char			**sensors;	/* feeds: sensor ids it may report */
	unsigned		 nsensors;
	/*
	 * Subscribers: the per-recipient key for track-id hashing, decoded
	 * from the "secret" hex text; NULL when not set (then the release
	 * filter gives that subscriber nothing, see docs/policy.md).
	 */
	unsigned char		*secret;
	size_t			 secretlen;
	/*
	 * Feeds: "federation: true" marks another trackfused whose published
	 * picture this daemon takes as a feed; it may send contributions of
	 * any owner, keeping their labels. peer_daemon_nation names the
	 * nation operating it (NULL unless federation).
	 */
	int			 federation;
	char			*peer_daemon_nation;
};

/*
 * One row of the classification equivalence table: a nation's national
 * level and the common (wire) level it equals.
 */
struct config_classification {
	char			 nation[TF_NATION_LEN];
	char			*level;		/* national name, e.g. "II" */
	enum tf_class		 cls;		/* common level, never NONE */
};

/*
 * An outbound federation link (docs/federation.md): this daemon connects
 * to another daemon's feeds listener as feed identity id and forwards the
 * contributions its owners' policies release to the recipient nation.
 */
struct config_uplink {
	char		*id;		/* == our certificate CN */
	char		*address;	/* numeric, far feeds port */
	uint16_t	 port;
	char		*recipient;	/* nation asked about */
	int		 tls;		/* 1 unless "tls: off" */
	char		*cert;		/* resolved; NULL: no tls */
	char		*key;
	uint32_t	 max_tracks;	/* default 100000 */
	unsigned char	*secret;	/* pseudonym key; NULL: random per start */
	size_t		 secretlen;
};

struct config_listen {
	char		*address;	/* default 127.0.0.1 */
	uint16_t	 port;
	int		 tls;		/* 1 unless "tls: off"; off only on loopback */
};

struct config_limits {
	uint32_t	max_frame;		/* bytes, default 65536 */
	uint32_t	max_feeds;		/* default 64 */
	uint32_t	max_subscribers;	/* default 32 */
	uint32_t	max_tracks;		/* system tracks, default 100000 */
	uint32_t	max_sources;		/* source tracks, default 200000 */
	uint32_t	subscriber_buffer;	/* bytes queued per subscriber, default 1 MiB */
	uint32_t	handshake_timeout_ms;	/* default 5000 */
	uint32_t	idle_timeout_ms;	/* no frame from a feed, default 30000 */
};

struct config_correlator {
	double		gate_chi2;	/* default 22.46 (6 dof, p = 0.999) */
	uint32_t	stale_ms;	/* default 15000 */
	uint32_t	coast_ms;	/* default 30000 */
	double		cell_m;		/* default 2000 */
};

struct config {
	char			*path;		/* file it came from */
	char			*name;		/* daemon name */
	char			*nation;	/* nation operating this daemon */
	struct config_listen	 feeds;
	struct config_listen	 subscribers;
	char			*ca;		/* paths resolved against the */
	char			*cert;		/* config file's directory */
	char			*key;
	char			*log_file;	/* NULL: stderr/syslog-free default */
	uint32_t		 stats_interval_s;	/* default 10 */
	struct config_limits	 limits;
	struct config_correlator correlator;
	struct config_identity	*identities;
	unsigned		 nidentities;
	char			*policy_dir;	/* resolved; NULL: no policies */
	char			*audit_file;	/* resolved; NULL: no audit */
	uint32_t		 audit_interval_s;	/* counts, default 10 */
	struct config_classification *classifications;
	unsigned		 nclassifications;
	struct config_uplink	*uplinks;	/* federation links out */
	unsigned		 nuplinks;
};

/* config.c */
/*
 * Load and validate path. On error returns NULL and writes
 * "file:line:column: reason" (or "file: reason") into err.
 */
struct config	*config_load(const char *path, char *err, size_t errlen);
void		 config_free(struct config *);
const struct config_identity *config_identity(const struct config *,
		    const char *);
int		 config_identity_has_sensor(const struct config_identity *,
		    const char *);
/* Print a human summary (for -n -v). */
void		 config_print(const struct config *, FILE *);
const char	*config_role_name(enum config_role);
/* Common level names: "unclassified" .. "top-secret"; 0 or -1. */
int		 config_class_parse(const char *, enum tf_class *);
const char	*config_class_name(enum tf_class);
/* The common level of a nation's national level; 0, or -1 if unmapped. */
int		 config_class_map(const struct config *, const char *,
		    const char *, enum tf_class *);
/* 1 if a nation is the daemon's, an identity's, in the class table or an
 * uplink's recipient. */
int		 config_nation_known(const struct config *, const char *);

#endif
