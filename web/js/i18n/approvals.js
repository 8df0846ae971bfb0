// Words of the 'approvals' area: `t('approvals.<key>')`. Keep the three languages' keys identical.
export default {
  en: {
  },
  es: {
  },
  fr: {
  },
};
