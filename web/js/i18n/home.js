// Words of the 'home' area: `t('home.<key>')`. Keep the three languages' keys identical.
export default {
  en: {
  },
  es: {
  },
  fr: {
  },
};
